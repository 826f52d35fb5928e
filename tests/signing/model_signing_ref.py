#!/usr/bin/env python3
"""An independent signer and verifier of the OpenSSF model signing format, for interop tests.

Written from the format's description (Sigstore bundle v0.3, DSSE envelope, in-toto Statement v1,
predicate https://model_signing/signature/v1.0) with Debian's python3-cryptography only; it shares
no code with secmlops.

  model_signing_ref.py sign   --key K.pem [--cert-chain C.pem ...] [--shard-size N] MODEL SIG
  model_signing_ref.py verify (--public-key P.pem | --roots CA.pem) MODEL SIG

verify exits 0 when the model matches, 1 with a reason on stderr otherwise.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import pathlib
import sys

from cryptography import exceptions, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
GIT_PATHS = [".git", ".gitattributes", ".github", ".gitignore"]


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def curve_hash(key):
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]


def is_ignored(rel: str, ignore) -> bool:
    return any(rel == i or rel.startswith(i + "/") for i in ignore)


def walk(model: pathlib.Path, ignore):
    """Regular files of the model as (relative posix name, path); symlinks are an error."""
    if model.is_symlink():
        raise ValueError(f"{model}: symlink")
    if model.is_file():
        return [(".", model)]
    out = []
    for root, dirs, files in os.walk(model):
        for name in sorted(dirs + files):
            p = pathlib.Path(root) / name
            rel = p.relative_to(model).as_posix()
            if is_ignored(rel, ignore):
                if name in dirs:
                    dirs.remove(name)
                continue
            if p.is_symlink():
                raise ValueError(f"{rel}: symlink")
            if p.is_file():
                out.append((rel, p))
    return out


def sha256_range(path: pathlib.Path, start: int, end: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                raise ValueError(f"{path}: short read")
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def resources(model: pathlib.Path, method: str, shard_size: int, ignore):
    items = []
    for rel, p in walk(model, ignore):
        size = p.stat().st_size
        if method == "files":
            items.append(((pathlib.PurePosixPath(rel).parts, 0, 0), rel, sha256_range(p, 0, size)))
        else:
            for start in range(0, size, shard_size):
                end = min(size, start + shard_size)
                items.append(((pathlib.PurePosixPath(rel).parts, start, end), f"{rel}:{start}:{end}",
                              sha256_range(p, start, end)))
    items.sort(key=lambda i: i[0])
    return [{"name": n, "algorithm": "sha256", "digest": d} for _, n, d in items]


def root_digest(res) -> str:
    h = hashlib.sha256()
    for r in res:
        h.update(bytes.fromhex(r["digest"]))
    return h.hexdigest()


def sign(args):
    model = pathlib.Path(args.model)
    key = serialization.load_pem_private_key(pathlib.Path(args.key).read_bytes(), None)
    sig_path = pathlib.Path(args.signature)
    ignore = list(GIT_PATHS)
    try:
        ignore.append(sig_path.resolve().relative_to(model.resolve()).as_posix())
    except ValueError:
        pass
    method = "shards" if args.shard_size else "files"
    res = resources(model, method, args.shard_size, ignore)
    serialization_args = {"method": method, "hash_type": "sha256", "allow_symlinks": False,
                          "ignore_paths": sorted(ignore)}
    if args.shard_size:
        serialization_args["shard_size"] = args.shard_size
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model.resolve().name, "digest": {"sha256": root_digest(res)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": serialization_args, "resources": res},
    }
    # Indented, with sorted keys: a different byte layout from secmlops' on purpose.
    payload = json.dumps(statement, indent=2, sort_keys=True).encode()
    sig = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(curve_hash(key.public_key())))
    if args.cert_chain:
        certs = []
        for c in args.cert_chain:
            certs += x509.load_pem_x509_certificates(pathlib.Path(c).read_bytes())
        material = {"x509CertificateChain": {"certificates": [
            {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()} for c in certs]}}
    else:
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        material = {"publicKey": {"hint": hashlib.sha256(pem).hexdigest()}}
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
                         "signatures": [{"sig": base64.b64encode(sig).decode()}]},
    }
    sig_path.write_text(json.dumps(bundle))
    return 0


def fail(reason: str) -> int:
    print(f"FAILED: {reason}", file=sys.stderr)
    return 1


def verify(args):
    model = pathlib.Path(args.model)
    sig_path = pathlib.Path(args.signature)
    bundle = json.loads(sig_path.read_text())
    if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        return fail("media type")
    env = bundle["dsseEnvelope"]
    payload = base64.b64decode(env["payload"])
    material = bundle["verificationMaterial"]
    if args.public_key:
        key = serialization.load_pem_public_key(pathlib.Path(args.public_key).read_bytes())
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        hint = material.get("publicKey", {}).get("hint")
        if hint and hint != hashlib.sha256(pem).hexdigest():
            return fail("key hint differs")
    else:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                 for c in material["x509CertificateChain"]["certificates"]]
        roots = x509.load_pem_x509_certificates(pathlib.Path(args.roots).read_bytes())
        now = datetime.datetime.now(datetime.timezone.utc)
        # Walk leaf → root: each certificate signed by the next (or by a root), all in validity.
        for i, cert in enumerate(chain):
            if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
                return fail(f"certificate {i} not valid now")
            issuers = chain[i + 1:i + 2] or [r for r in roots if r.subject == cert.issuer]
            if not issuers:
                return fail(f"certificate {i}: issuer not trusted")
            try:
                cert.verify_directly_issued_by(issuers[0])
            except (ValueError, TypeError, exceptions.InvalidSignature):
                return fail(f"certificate {i}: not issued by its issuer")
        last = chain[-1]
        if not any(r.subject == last.subject and r.public_bytes(serialization.Encoding.DER) ==
                   last.public_bytes(serialization.Encoding.DER) for r in roots):
            if not any(r.subject == last.issuer for r in roots):
                return fail("chain does not end at a trusted root")
        key = chain[0].public_key()
    try:
        key.verify(base64.b64decode(env["signatures"][0]["sig"]), pae(env["payloadType"], payload),
                   ec.ECDSA(curve_hash(key)))
    except exceptions.InvalidSignature:
        return fail("signature does not verify")
    if env["payloadType"] != PAYLOAD_TYPE:
        return fail("payload type")
    st = json.loads(payload)
    if st["_type"] != STATEMENT_TYPE or st["predicateType"] != PREDICATE_TYPE:
        return fail("statement type")
    if len(st["subject"]) != 1:
        return fail("subjects")
    res = st["predicate"]["resources"]
    if root_digest(res) != st["subject"][0]["digest"]["sha256"]:
        return fail("manifest does not hash to the subject")
    ser = st["predicate"]["serialization"]
    ignore = list(ser.get("ignore_paths", GIT_PATHS))
    try:
        ignore.append(sig_path.resolve().relative_to(model.resolve()).as_posix())
    except ValueError:
        pass
    actual = resources(model, ser["method"], ser.get("shard_size", 0), ignore)
    want = {r["name"]: r["digest"] for r in res}
    have = {r["name"]: r["digest"] for r in actual}
    if want != have:
        diff = sorted(set(want.items()) ^ set(have.items()))
        return fail(f"model differs: {diff[0][0]}")
    print("verified")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("--key", required=True)
    s.add_argument("--cert-chain", action="append")
    s.add_argument("--shard-size", type=int, default=0)
    s.add_argument("model")
    s.add_argument("signature")
    v = sub.add_parser("verify")
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--public-key")
    g.add_argument("--roots")
    v.add_argument("model")
    v.add_argument("signature")
    args = ap.parse_args()
    return sign(args) if args.cmd == "sign" else verify(args)


if __name__ == "__main__":
    sys.exit(main())
