#!/usr/bin/python3
"""Write tests/data/jwt/fixtures.json: JWTs minted independently of jobscope.

The tokens are made with PyJWT and pyca/cryptography (Debian: python3-jwt,
python3-cryptography), not with jobscope's own signer, so that
tests/unit/check_token.c checks app/token.c against a second implementation.

Regenerate (the output is deterministic: the keys come from fixed seeds,
Ed25519 and HMAC signatures are deterministic, and every time stamp is fixed):

    /usr/bin/python3 tests/data/jwt/make_fixtures.py > tests/data/jwt/fixtures.json

The keys are test keys only; never use them anywhere else.  "Valid" tokens
expire in 2100, expired ones in 2001, so the file works with the real clock.
Each case names the verifier ("api", "hs" for /jwt-login, "cookie") and the
expected outcome: the claims, or the reason text app/token.c must return.
"""
import base64
import hashlib
import json
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

Y2001 = 978307200    # 2001-01-01T00:00:00Z
Y2020 = 1577836800   # 2020-01-01T00:00:00Z
Y2100 = 4102444800   # 2100-01-01T00:00:00Z
TRUSTED_ISSUER = "https://sso.example.org"


def seed(label):
    return hashlib.sha256(b"jobscope jwt test key: " + label.encode()).digest()


def ed25519(label):
    priv = Ed25519PrivateKey.from_private_bytes(seed(label))
    raw_pub = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    return priv, raw_pub


def b64(raw):
    return base64.b64encode(raw).decode()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


main_priv, main_pub = ed25519("main")
cross_priv, cross_pub = ed25519("cross-login issuer")
foreign_priv, _ = ed25519("somebody else")
hs_key = seed("cross-login hmac")

CLAIMS = {"sub": "alice", "roles": ["admin", "api"], "iat": Y2020, "exp": Y2100}


def eddsa(claims, key=main_priv):
    return jwt.encode(claims, key, algorithm="EdDSA")


def ok(label, mode, token, **claims):
    return {"name": label, "mode": mode, "token": token, "ok": True, "claims": claims}


def bad(label, mode, token, error):
    return {"name": label, "mode": mode, "token": token, "ok": False, "error": error}


valid = eddsa(CLAIMS)
h, p, s = valid.split(".")
other_payload = b64url(compact(dict(CLAIMS, sub="root")))
rs256_sized_sig = b64url(hashlib.shake_256(b"not a signature").digest(256))

cases = [
    ok("valid", "api", valid, sub="alice", roles=["admin", "api"], iat=Y2020, exp=Y2100),
    ok("no exp never expires", "api", eddsa({"sub": "bob", "roles": ["api"]}),
       sub="bob", roles=["api"]),
    bad("expired", "api", eddsa(dict(CLAIMS, exp=Y2001)), "token is expired"),
    bad("nbf in the future", "api", eddsa(dict(CLAIMS, nbf=Y2100)), "token is not valid yet"),
    bad("no sub", "api", eddsa({"roles": ["api"], "exp": Y2100}), "token has no subject"),
    bad("empty sub", "api", eddsa({"sub": "", "roles": ["api"]}), "token has no subject"),
    bad("alg none", "api", jwt.encode(CLAIMS, None, algorithm=None),
        "unsupported signing method none"),
    bad("HS256 with the public key as secret", "api", jwt.encode(CLAIMS, main_pub, algorithm="HS256"),
        "unsupported signing method HS256"),
    bad("foreign Ed25519 key", "api", eddsa(CLAIMS, foreign_priv), "token signature is invalid"),
    bad("tampered payload", "api", f"{h}.{other_payload}.{s}", "token signature is invalid"),
    bad("EdDSA header with an RS256-sized signature", "api", f"{h}.{p}.{rs256_sized_sig}",
        "token signature is invalid"),
    bad("roles not an array", "api", eddsa({"sub": "alice", "roles": "admin"}),
        "token has invalid claims: roles must be an array of strings"),
    bad("exp not a number", "api", eddsa({"sub": "alice", "exp": "2100-01-01"}),
        "token has invalid claims: exp must be a number"),
    bad("two segments", "api", f"{h}.{p}", "token is malformed"),

    ok("cross-login HS512", "hs",
       jwt.encode({"sub": "carol", "roles": ["user"], "projects": ["p1", "p2"],
                   "name": {"values": ["Carol", "Smith"]}, "exp": Y2100}, hs_key, algorithm="HS512"),
       sub="carol", roles=["user"], projects=["p1", "p2"], name="Carol Smith", exp=Y2100),
    ok("cross-login HS256", "hs",
       jwt.encode({"sub": "dave", "name": "Dave Jones"}, hs_key, algorithm="HS256"),
       sub="dave", name="Dave Jones"),
    bad("cross-login HS512 with another key", "hs",
        jwt.encode({"sub": "carol", "exp": Y2100}, seed("wrong hmac"), algorithm="HS512"),
        "token signature is invalid"),
    bad("cross-login HS512 expired", "hs",
        jwt.encode({"sub": "carol", "exp": Y2001}, hs_key, algorithm="HS512"),
        "token is expired"),
    bad("cross-login alg none", "hs", jwt.encode({"sub": "carol"}, None, algorithm=None),
        "unsupported signing method none"),
    bad("cross-login rejects EdDSA", "hs", valid, "unsupported signing method EdDSA"),
    bad("cross-login HS384", "hs", jwt.encode({"sub": "carol"}, hs_key, algorithm="HS384"),
        "unsupported signing method HS384"),

    ok("cookie from the trusted issuer", "cookie",
       eddsa({"sub": "erin", "iss": TRUSTED_ISSUER, "roles": ["user"], "exp": Y2100}, cross_priv),
       sub="erin", iss=TRUSTED_ISSUER, roles=["user"], exp=Y2100),
    ok("cookie without iss uses the main key", "cookie", valid,
       sub="alice", roles=["admin", "api"], iat=Y2020, exp=Y2100),
    bad("cookie from the trusted issuer signed with the main key", "cookie",
        eddsa({"sub": "erin", "iss": TRUSTED_ISSUER}), "token signature is invalid"),
    bad("cookie from an unknown issuer", "cookie",
        eddsa({"sub": "erin", "iss": "https://evil.example.org"}, cross_priv),
        "token issuer is not trusted"),
    bad("cookie without iss signed by the cross-login key", "cookie",
        eddsa({"sub": "erin"}, cross_priv), "token signature is invalid"),
    bad("cookie HS512", "cookie", jwt.encode({"sub": "erin"}, hs_key, algorithm="HS512"),
        "unsupported signing method HS512"),
]

# What token_sign must produce byte for byte: cc-backend's layout (Go's
# MapClaims marshal keys in sorted order; PyJWT sorts the header).
SIGN = {"sub": "alice", "roles": ["admin", "api"], "iat": 1700000000, "max_age": 7200000}
sign_claims = {"exp": SIGN["iat"] + SIGN["max_age"], "iat": SIGN["iat"],
               "roles": SIGN["roles"], "sub": SIGN["sub"]}
SIGN["token"] = eddsa(sign_claims)

main_priv_raw = main_priv.private_bytes(serialization.Encoding.Raw,
                                        serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
out = {
    "comment": "generated by tests/data/jwt/make_fixtures.py (PyJWT %s); do not edit" % jwt.__version__,
    "keys": {
        "JWT_PUBLIC_KEY": b64(main_pub),
        "JWT_PRIVATE_KEY": b64(main_priv_raw + main_pub),
        "CROSS_LOGIN_JWT_PUBLIC_KEY": b64(cross_pub),
        "CROSS_LOGIN_JWT_HS512_KEY": b64(hs_key),
        "trusted_issuer": TRUSTED_ISSUER,
    },
    "cases": cases,
    "sign": SIGN,
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
