"""Helpers for the HTTP suite: a FastCGI client, HTML scraping, processes.

The FastCGI client talks to jobscope's socket directly, bypassing nginx, for
requests nginx would refuse or rewrite itself (oversized URI, headers or
body, HTTPS=on, crafted CGI parameters).  It speaks the protocol
(https://fastcgi-archives.github.io/FastCGI_Specification.html) in full for
one request per connection, the way nginx uses jobscope (no keep-alive).
"""

import os
import re
import socket
import struct
import subprocess
import time
import zlib

FCGI_VERSION = 1
FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_END_REQUEST = 1, 2, 3
FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 4, 5, 6, 7
FCGI_RESPONDER = 1
REQUEST_ID = 1


def _record(rtype, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", FCGI_VERSION, rtype, REQUEST_ID, len(content), pad) + content + b"\0" * pad


def _stream(rtype, data):
    """A stream (PARAMS or STDIN): records of at most 65535 bytes, then an empty one."""
    out = []
    for i in range(0, len(data), 65535):
        out.append(_record(rtype, data[i:i + 65535]))
    out.append(_record(rtype))
    return b"".join(out)


def _nv_len(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def _encode_params(params):
    out = []
    for k, v in params.items():
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        out.append(_nv_len(len(k)) + _nv_len(len(v)) + k + v)
    return b"".join(out)


class FcgiResponse:
    def __init__(self, raw, stderr, app_status):
        self.raw = raw
        self.stderr = stderr
        self.app_status = app_status
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = raw.partition(b"\n\n")
        self.body = body
        self.header_list = []
        for line in head.decode("latin-1").splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                self.header_list.append((k.strip(), v.strip()))
        st = self.header("Status")
        self.status = int(st.split()[0]) if st else 200

    def header(self, name):
        for k, v in self.header_list:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<FcgiResponse %d: %r>" % (self.status, self.raw[:2000])


def fcgi_params(method="GET", uri="/", headers=None, body_len=0, env=None, content_length=None):
    """CGI parameters as nginx's fastcgi_params would send them.  headers: {"Cookie": ...}
    become HTTP_*; env: raw params that override everything (None as a value drops one)."""
    path, _, query = uri.partition("?")
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "jobscope-tests",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_ADDR": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "SCRIPT_NAME": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "",
        "CONTENT_LENGTH": str(body_len if content_length is None else content_length),
        "HTTP_HOST": "localhost",
    }
    for k, v in (headers or {}).items():
        if k.lower() == "content-type":
            params["CONTENT_TYPE"] = v
        else:
            params["HTTP_" + k.upper().replace("-", "_")] = v
    for k, v in (env or {}).items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = v
    return params


class FcgiConn:
    """One FastCGI request, step by step (for requests that stall halfway)."""

    def __init__(self, sock_path, timeout=20):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(sock_path)

    def begin(self, params, keep=False):
        """keep: FCGI_KEEP_CONN, as nginx's fastcgi_keep_conn sends it: the connection
        stays open for the next request (see response(close=False))."""
        self.s.sendall(_record(FCGI_BEGIN_REQUEST, struct.pack(">HB5x", FCGI_RESPONDER, 1 if keep else 0)) +
                       _stream(FCGI_PARAMS, _encode_params(params)))

    def stdin(self, data, end=True):
        """Send body bytes; end=True closes the stream.  False if the app hung up already."""
        try:
            for i in range(0, len(data), 65535):
                self.s.sendall(_record(FCGI_STDIN, data[i:i + 65535]))
            if end:
                self.s.sendall(_record(FCGI_STDIN))
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False  # the app may answer (413) without reading the body

    def response(self, close=True):
        stdout, stderr, app_status, buf = [], [], None, b""
        try:
            while app_status is None:
                chunk = self.s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 8:
                    _, rtype, _, clen, plen = struct.unpack(">BBHHBx", buf[:8])
                    if len(buf) < 8 + clen + plen:
                        break
                    content = buf[8:8 + clen]
                    buf = buf[8 + clen + plen:]
                    if rtype == FCGI_STDOUT:
                        stdout.append(content)
                    elif rtype == FCGI_STDERR:
                        stderr.append(content)
                    elif rtype == FCGI_END_REQUEST:
                        app_status = struct.unpack(">I", content[:4])[0]
                        break
        finally:
            if close or app_status is None:
                self.s.close()
        if app_status is None:
            raise ConnectionError("FastCGI: connection closed before FCGI_END_REQUEST; got %r" % b"".join(stdout)[:500])
        return FcgiResponse(b"".join(stdout), b"".join(stderr), app_status)


def fcgi_request(sock_path, method="GET", uri="/", headers=None, body=b"", env=None,
                 content_length=None, timeout=20):
    """One request over FastCGI; see fcgi_params for the arguments."""
    if isinstance(body, str):
        body = body.encode()
    c = FcgiConn(sock_path, timeout)
    c.begin(fcgi_params(method, uri, headers, len(body), env, content_length))
    c.stdin(body)
    return c.response()


# --- HTML ------------------------------------------------------------------

def csrf_from(html):
    """The csrf_token of the first form in the page."""
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no csrf_token field in the page:\n" + html[:3000]
    return m.group(1)


def hidden_field(html, name):
    m = re.search(r'<input type="hidden" name="%s" value="([^"]*)"' % re.escape(name), html)
    return m.group(1) if m else None


def tidy_errors(html):
    """(exit status, messages) of `tidy -q -e`: 0 clean, 1 warnings, 2 errors."""
    p = subprocess.run(["tidy", "-q", "-e", "--show-warnings", "yes"], input=html.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stderr.decode(errors="replace")


def set_cookies(resp):
    """Raw Set-Cookie header values of a requests response."""
    return resp.raw.headers.getlist("Set-Cookie")


def cookie_attrs(value):
    """'a=b; Path=/; HttpOnly' -> ('a', 'b', {'path': '/', 'httponly': True})"""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name, val, attrs


def find_cookie(values, name):
    for v in values:
        n, val, attrs = cookie_attrs(v)
        if n == name:
            return val, attrs
    return None


# --- files -----------------------------------------------------------------

def png_bytes(w=2, h=2, pad=0):
    """a valid w x h RGB PNG; pad: a tEXt chunk of that many bytes"""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * w for _ in range(h))
    extra = chunk(b"tEXt", b"pad\x00" + b"x" * pad) if pad else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + extra +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# --- processes -------------------------------------------------------------

def children_of(ppid):
    """{pid: comm} of the live (non-zombie) children of ppid."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/comm" % d) as f:
                comm = f.read().strip()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        state, parent = rest[0], int(rest[1])
        if parent == ppid and state != "Z":
            out[int(d)] = comm
    return out


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def show(resp, limit=3000):
    """A response, for assertion messages."""
    if hasattr(resp, "status_code"):
        head = "%s %s\n%s" % (resp.status_code, resp.url,
                              "\n".join("%s: %s" % kv for kv in resp.headers.items()))
        body = resp.text
    else:
        head = "%s\n%s" % (resp.status, "\n".join("%s: %s" % kv for kv in resp.header_list))
        body = resp.text
    if len(body) > limit:
        body = body[:limit] + "\n[... %d more bytes]" % (len(body) - limit)
    return "\n--- response ---\n%s\n\n%s\n--- end ---" % (head, body)
