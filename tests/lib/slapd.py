"""A real OpenLDAP slapd for the tests, on a free loopback port.

Slapd(root).setup() fills tests/data/ldap/slapd.conf.in into root/slapd.conf
(mdb database in root/data), loads tests/data/ldap/directory.ldif plus BULK
generated users (bulk001, bulk002, ...) with slapadd, makes a CA
(root/ca.pem) and a certificate for 127.0.0.1 with python3-cryptography, and
starts `slapd -f root/slapd.conf -h "ldap://127.0.0.1:PORT/ ldaps://127.0.0.1:PORT2/"
-d stats` in the foreground with its log in root/slapd.log.  stop() and start() stop it and
start it again on the same port with the same data; the tests use that for
"the directory is down".  The child dies with the test process
(PR_SET_PDEATHSIG), so a killed pytest leaves no slapd behind.

Changes while it runs go through ldapadd / ldapmodify / ldapdelete (ldap-utils)
as the rootdn.  Debian packages: slapd ldap-utils (./test.sh installs them).
"""

import ctypes
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "ldap")

SUFFIX = "dc=example,dc=org"
PEOPLE = "ou=people," + SUFFIX
ROOT_DN, ROOT_PW = "cn=admin," + SUFFIX, "admin-Secret-0"
READER_DN, READER_PW = "cn=reader," + SUFFIX, "reader-Secret-9"
BULK = 300


def find_tool(name):
    for d in (os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin", "/usr/bin"]):
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    return None


def missing_tools():
    return [t for t in ("slapd", "slapadd", "ldapadd", "ldapmodify", "ldapdelete", "ldapsearch") if not find_tool(t)]


def _die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bulk_ldif(n=BULK):
    out = []
    for i in range(1, n + 1):
        out.append("dn: uid=bulk%03d,%s\nobjectClass: inetOrgPerson\nuid: bulk%03d\ncn: Bulk User %d\n"
                   "sn: User\n" % (i, PEOPLE, i, i))
    return "\n".join(out)


def make_certificates(root):
    """ca.pem, server.pem and server.key in root: a CA and a server certificate for 127.0.0.1
    (and no other name: ldaps://localhost must fail the host name check)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jobscope test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(root, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(root, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    fd = os.open(os.path.join(root, "server.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class Slapd:
    def __init__(self, root, bulk=BULK):
        self.root = root
        self.bulk = bulk
        self.port = _free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.tls_port = _free_port()
        self.tls_url = "ldaps://127.0.0.1:%d" % self.tls_port
        self.ca = os.path.join(root, "ca.pem")
        self.conf = os.path.join(root, "slapd.conf")
        self.logpath = os.path.join(root, "slapd.log")
        self.proc = None

    def setup(self):
        missing = missing_tools()
        if missing:
            raise AssertionError("%s not installed (apt-get install slapd ldap-utils)" % ", ".join(missing))
        os.makedirs(os.path.join(self.root, "data"))
        make_certificates(self.root)
        with open(os.path.join(DATA, "slapd.conf.in")) as f:
            conf = f.read()
        conf = (conf.replace("@DIR@", self.root).replace("@SCHEMA@", "/etc/ldap/schema")
                .replace("@MODULEPATH@", "/usr/lib/ldap"))
        with open(self.conf, "w") as f:
            f.write(conf)
        ldif = os.path.join(self.root, "all.ldif")
        with open(os.path.join(DATA, "directory.ldif"), encoding="utf-8") as f:
            text = f.read()
        with open(ldif, "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n\n" + bulk_ldif(self.bulk))
        p = subprocess.run([find_tool("slapadd"), "-q", "-f", self.conf, "-l", ldif],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert p.returncode == 0, "slapadd failed:\n" + p.stdout
        self.start()

    def start(self):
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([find_tool("slapd"), "-f", self.conf, "-h", "%s/ %s/" % (self.url, self.tls_url),
                                      "-d", "stats"],
                                     stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("slapd exited with %s:\n%s" % (self.proc.returncode, self.log_text()[-3000:]))
            p = subprocess.run([find_tool("ldapsearch"), "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW,
                                "-b", SUFFIX, "-s", "base", "dn"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
            if p.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError("slapd does not answer on %s: %s\n%s" % (self.url, p.stdout, self.log_text()[-3000:]))
            time.sleep(0.1)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _tool(self, tool, args, stdin=None):
        p = subprocess.run([find_tool(tool), "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW] + args,
                           input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        assert p.returncode == 0, "%s %s failed: %s" % (tool, " ".join(args), p.stdout)
        return p.stdout

    def add(self, ldif):
        return self._tool("ldapadd", [], ldif)

    def modify(self, ldif):
        return self._tool("ldapmodify", [], ldif)

    def delete(self, dn):
        return self._tool("ldapdelete", [dn])

    def search(self, filt, attrs=()):
        return self._tool("ldapsearch", ["-LLL", "-b", SUFFIX, filt] + list(attrs))

    def cleanup(self):
        self.stop()
        shutil.rmtree(os.path.join(self.root, "data"), ignore_errors=True)
