#!/usr/bin/env python3
"""secmlops sign/verify against an independent implementation (model_signing_ref.py) and every
tampering case. Usage: signing_cli_test.py SECMLOPS_CLI  (run by CTest)."""

import base64
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CLI = None
REF = str(pathlib.Path(__file__).with_name("model_signing_ref.py"))
CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}


def write_key(path, key, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))


def write_pub(path, key):
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))


def make_cert(subject_key, subject, issuer_key, issuer, ca, days=(-1, 30), digital_signature=True):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days[0]))
         .not_valid_after(now + datetime.timedelta(days=days[1]))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=digital_signature and not ca, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=not digital_signature and not ca,
                                      key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                        critical=True))
    return b.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="signing-test-"))
        self.model = self.tmp / "my-model"
        (self.model / "sub").mkdir(parents=True)
        (self.model / "weights.bin").write_bytes(os.urandom(300_000))
        (self.model / "config.json").write_text('{"layers": 3}\n')
        (self.model / "sub" / "tokenizer.json").write_text('{"vocab": []}\n')
        (self.model / "sub" / "empty").write_bytes(b"")
        (self.model / ".git").mkdir()
        (self.model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        self.key = ec.generate_private_key(ec.SECP256R1())
        write_key(self.tmp / "key.pem", self.key)
        write_pub(self.tmp / "pub.pem", self.key)
        self.sig = self.model / "model.sig"

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sign(self, *extra, model=None):
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", model or self.model, *extra)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        return r

    def verify(self, *extra, model=None, key="pub.pem"):
        return run(CLI, "verify", "--public-key", self.tmp / key, model or self.model, *extra)

    def assert_fails(self, r, *needles):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        first = r.stdout.splitlines()[0] if r.stdout else ""
        for n in needles:
            self.assertIn(n, first)


class Interop(Base):
    def test_secmlops_signs_reference_verifies_every_curve(self):
        for name, curve in CURVES.items():
            with self.subTest(curve=name):
                key = ec.generate_private_key(curve)
                write_key(self.tmp / "k.pem", key)
                write_pub(self.tmp / "p.pem", key)
                r = run(CLI, "sign", "--key", self.tmp / "k.pem", self.model)
                self.assertEqual(r.returncode, 0, r.stderr)
                r = run(sys.executable, REF, "verify", "--public-key", self.tmp / "p.pem", self.model, self.sig)
                self.assertEqual(r.returncode, 0, r.stderr)
                bundle = json.loads(self.sig.read_text())
                pub_pem = (self.tmp / "p.pem").read_bytes()
                self.assertEqual(bundle["verificationMaterial"]["publicKey"]["hint"], hashlib.sha256(pub_pem).hexdigest())

    def test_reference_signs_secmlops_verifies_every_curve(self):
        for name, curve in CURVES.items():
            with self.subTest(curve=name):
                key = ec.generate_private_key(curve)
                write_key(self.tmp / "k.pem", key)
                write_pub(self.tmp / "p.pem", key)
                r = run(sys.executable, REF, "sign", "--key", self.tmp / "k.pem", self.model, self.sig)
                self.assertEqual(r.returncode, 0, r.stderr)
                r = self.verify(key="p.pem")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_shards_both_directions(self):
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", "--method", "shards", "--shard-size", "65536", self.model)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(base64.b64decode(json.loads(self.sig.read_text())["dsseEnvelope"]["payload"]))
        names = [res["name"] for res in st["predicate"]["resources"]]
        self.assertIn("weights.bin:262144:300000", names)
        self.assertEqual(st["predicate"]["serialization"]["shard_size"], 65536)
        r = run(sys.executable, REF, "verify", "--public-key", self.tmp / "pub.pem", self.model, self.sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(sys.executable, REF, "sign", "--key", self.tmp / "key.pem", "--shard-size", "100000", self.model, self.sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.verify().returncode, 0)
        with open(self.model / "weights.bin", "r+b") as f:
            f.seek(250_000)
            f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
        self.assert_fails(self.verify(), "weights.bin: content differs")

    def test_single_file_model_both_directions(self):
        f = self.model / "weights.bin"
        self.sign(model=f)
        sig = self.model / "weights.bin.sig"
        r = run(sys.executable, REF, "verify", "--public-key", self.tmp / "pub.pem", f, sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(sys.executable, REF, "sign", "--key", self.tmp / "key.pem", f, sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.verify(model=f).returncode, 0)

    def test_certificate_chain_both_directions(self):
        root_key = ec.generate_private_key(ec.SECP384R1())
        inter_key = ec.generate_private_key(ec.SECP256R1())
        root = make_cert(root_key, "Test Root", root_key, "Test Root", ca=True)
        inter = make_cert(inter_key, "Test Intermediate", root_key, "Test Root", ca=True)
        leaf = make_cert(self.key, "model signer", inter_key, "Test Intermediate", ca=False)
        (self.tmp / "root.pem").write_bytes(pem(root))
        (self.tmp / "leaf.pem").write_bytes(pem(leaf))
        (self.tmp / "inter.pem").write_bytes(pem(inter))
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", "--certificate-chain", self.tmp / "leaf.pem",
                "--certificate-chain", self.tmp / "inter.pem", self.model)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(sys.executable, REF, "verify", "--roots", self.tmp / "root.pem", self.model, self.sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(CLI, "verify", "--certificate-roots", self.tmp / "root.pem", self.model)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("model signer", r.stdout)
        r = run(sys.executable, REF, "sign", "--key", self.tmp / "key.pem", "--cert-chain", self.tmp / "leaf.pem",
                "--cert-chain", self.tmp / "inter.pem", self.model, self.sig)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(CLI, "verify", "--certificate-roots", self.tmp / "root.pem", self.model)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_old_digests_predicate_is_accepted(self):
        subjects = []
        for rel in ["config.json", "sub/empty", "sub/tokenizer.json", "weights.bin"]:
            subjects.append({"name": rel, "digest": {"sha256": hashlib.sha256((self.model / rel).read_bytes()).hexdigest()}})
        st = {"_type": "https://in-toto.io/Statement/v1", "subject": subjects,
              "predicateType": "https://model_signing/Digests/v0.1", "predicate": {}}
        write_bundle(self.sig, self.key, json.dumps(st).encode())
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        (self.model / "config.json").write_text("{}")
        self.assert_fails(self.verify(), "config.json")


def write_bundle(path, key, payload, hint=True):
    pae = b"DSSEv1 %d %s %d %s" % (len(b"application/vnd.in-toto+json"), b"application/vnd.in-toto+json",
                                   len(payload), payload)
    hashes_by_size = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}
    sig = key.sign(pae, ec.ECDSA(hashes_by_size[key.curve.key_size]))
    material = {}
    if hint:
        p = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        material["publicKey"] = {"hint": hashlib.sha256(p).hexdigest()}
    path.write_text(json.dumps({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": material,
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": base64.b64encode(sig).decode()}]}}))


class Tampering(Base):
    def setUp(self):
        super().setUp()
        self.sign()
        self.assertEqual(self.verify().returncode, 0)

    def test_changed_byte(self):
        with open(self.model / "weights.bin", "r+b") as f:
            b = f.read(1)
            f.seek(0)
            f.write(bytes([b[0] ^ 1]))
        self.assert_fails(self.verify(), "weights.bin: content differs")

    def test_added_file(self):
        (self.model / "sub" / "extra.py").write_text("import os\n")
        self.assert_fails(self.verify(), "sub/extra.py: in the model but not in the signature")

    def test_removed_file(self):
        (self.model / "config.json").unlink()
        self.assert_fails(self.verify(), "config.json: signed but missing")

    def test_renamed_file(self):
        (self.model / "config.json").rename(self.model / "config2.json")
        self.assert_fails(self.verify(), "config.json: renamed to config2.json")

    def test_file_swapped_for_symlink(self):
        target = self.tmp / "elsewhere.json"
        shutil.copy(self.model / "config.json", target)
        (self.model / "config.json").unlink()
        (self.model / "config.json").symlink_to(target)
        self.assert_fails(self.verify(), "config.json: is a symbolic link")

    def test_ignored_git_directory_does_not_matter(self):
        (self.model / ".git" / "HEAD").write_text("changed\n")
        self.assertEqual(self.verify().returncode, 0)

    def test_manifest_not_hashing_to_subject(self):
        env = json.loads(self.sig.read_text())["dsseEnvelope"]
        st = json.loads(base64.b64decode(env["payload"]))
        st["predicate"]["resources"][0]["digest"] = "00" * 32
        write_bundle(self.sig, self.key, json.dumps(st).encode())
        self.assert_fails(self.verify(), "does not hash to its subject")

    def test_resource_listed_twice(self):
        env = json.loads(self.sig.read_text())["dsseEnvelope"]
        st = json.loads(base64.b64decode(env["payload"]))
        res = st["predicate"]["resources"]
        res.append(dict(res[0]))
        h = hashlib.sha256()
        for r in res:
            h.update(bytes.fromhex(r["digest"]))
        st["subject"][0]["digest"]["sha256"] = h.hexdigest()
        write_bundle(self.sig, self.key, json.dumps(st).encode())
        self.assert_fails(self.verify(), "listed twice")

    def test_signature_by_another_key(self):
        other = ec.generate_private_key(ec.SECP256R1())
        write_pub(self.tmp / "other.pem", other)
        self.assert_fails(self.verify(key="other.pem"), "another key")
        # Without the hint, the signature itself must fail.
        b = json.loads(self.sig.read_text())
        del b["verificationMaterial"]["publicKey"]
        self.sig.write_text(json.dumps(b))
        self.assert_fails(self.verify(key="other.pem"), "does not verify")

    def test_payload_altered_after_signing(self):
        b = json.loads(self.sig.read_text())
        st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
        st["subject"][0]["name"] = "another-model"
        b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
        self.sig.write_text(json.dumps(b))
        self.assert_fails(self.verify(), "model.sig", "does not verify")

    def test_truncated_bundle(self):
        text = self.sig.read_text()
        self.sig.write_text(text[: len(text) // 2])
        self.assert_fails(self.verify(), "model.sig", "malformed or truncated")

    def test_malformed_bundles(self):
        good = json.loads(self.sig.read_text())
        cases = {
            "[]": "not a JSON object",
            json.dumps({**good, "mediaType": "x"}): "media type",
            json.dumps({k: v for k, v in good.items() if k != "dsseEnvelope"}): "dsseEnvelope",
            json.dumps({**good, "dsseEnvelope": {**good["dsseEnvelope"], "signatures": []}}): "no signature",
            json.dumps({**good, "dsseEnvelope": {**good["dsseEnvelope"], "payload": "!!"}}): "base64",
            json.dumps({**good, "dsseEnvelope": {**good["dsseEnvelope"], "payload": 7}}): "not a string",
        }
        for text, needle in cases.items():
            with self.subTest(needle=needle):
                self.sig.write_text(text)
                self.assert_fails(self.verify(), "model.sig", needle)

    def test_json_output(self):
        (self.model / "config.json").write_text("{}")
        r = self.verify("--format", "json")
        self.assertEqual(r.returncode, 1)
        doc = json.loads(r.stdout)
        self.assertFalse(doc.get("verified", False))
        self.assertEqual(doc["status"], "SIGNING_FAILED")
        self.assertIn("config.json", doc["reason"])


class ScanGate(Base):
    def test_scan_require_signature(self):
        self.sign()
        r = run(CLI, "scan", "--require-signature", self.tmp / "pub.pem", "--format", "json", self.model)
        self.assertNotIn("HOST-SIGNATURE-INVALID", r.stdout, r.stderr)
        (self.model / "config.json").write_text('{"layers": 4}')
        r = run(CLI, "scan", "--require-signature", self.tmp / "pub.pem", "--format", "json", self.model)
        self.assertEqual(r.returncode, 1, r.stderr)
        doc = json.loads(r.stdout)
        findings = [f for file in doc["files"] for f in file.get("findings", [])]
        gate = [f for f in findings if f["ruleId"] == "HOST-SIGNATURE-INVALID"]
        self.assertEqual(len(gate), 1)
        self.assertEqual(gate[0]["severity"], "CRITICAL")
        self.assertIn("config.json: content differs", gate[0]["message"])
        self.assertEqual(doc["summary"]["maxSeverity"], "CRITICAL")


class Certificates(Base):
    def setUp(self):
        super().setUp()
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = make_cert(self.root_key, "Root", self.root_key, "Root", ca=True)
        (self.tmp / "root.pem").write_bytes(pem(self.root))

    def sign_with(self, leaf):
        (self.tmp / "leaf.pem").write_bytes(pem(leaf))
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", "--certificate-chain", self.tmp / "leaf.pem", self.model)
        self.assertEqual(r.returncode, 0, r.stderr)
        return run(CLI, "verify", "--certificate-roots", self.tmp / "root.pem", self.model)

    def test_valid_leaf(self):
        self.assertEqual(self.sign_with(make_cert(self.key, "signer", self.root_key, "Root", ca=False)).returncode, 0)

    def test_single_certificate_form(self):
        self.assertEqual(self.sign_with(make_cert(self.key, "signer", self.root_key, "Root", ca=False)).returncode, 0)
        b = json.loads(self.sig.read_text())
        chain = b["verificationMaterial"].pop("x509CertificateChain")
        b["verificationMaterial"]["certificate"] = chain["certificates"][0]
        self.sig.write_text(json.dumps(b))
        r = run(CLI, "verify", "--certificate-roots", self.tmp / "root.pem", self.model)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_expired_certificate(self):
        leaf = make_cert(self.key, "signer", self.root_key, "Root", ca=False, days=(-30, -1))
        self.assert_fails(self.sign_with(leaf), "signer", "expired")

    def test_untrusted_certificate(self):
        other_key = ec.generate_private_key(ec.SECP256R1())
        leaf = make_cert(self.key, "signer", other_key, "Other Root", ca=False)
        self.assert_fails(self.sign_with(leaf), "signer", "issuer")

    def test_certificate_not_for_signing(self):
        leaf = make_cert(self.key, "signer", self.root_key, "Root", ca=False, digital_signature=False)
        self.assert_fails(self.sign_with(leaf), "not valid for signing")

    def test_key_signature_against_roots(self):
        self.sign()
        r = run(CLI, "verify", "--certificate-roots", self.tmp / "root.pem", self.model)
        self.assert_fails(r, "no certificate chain")

    def test_certificate_of_another_key_refused_when_signing(self):
        other = ec.generate_private_key(ec.SECP256R1())
        (self.tmp / "leaf.pem").write_bytes(pem(make_cert(other, "x", self.root_key, "Root", ca=False)))
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", "--certificate-chain", self.tmp / "leaf.pem", self.model)
        self.assertEqual(r.returncode, 2)


class UnusableInput(Base):
    def test_unreadable_key(self):
        r = run(CLI, "sign", "--key", self.tmp / "missing.pem", self.model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.pem", r.stderr)
        self.sign()
        r = run(CLI, "verify", "--public-key", self.tmp / "missing.pem", self.model)
        self.assertEqual(r.returncode, 2)

    def test_bad_pem(self):
        (self.tmp / "bad.pem").write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
        self.sign()
        r = self.verify(key="bad.pem")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        r = run(CLI, "sign", "--key", self.tmp / "bad.pem", self.model)
        self.assertEqual(r.returncode, 2)

    def test_missing_model_and_signature(self):
        r = self.verify(model=self.tmp / "nothing")
        self.assertEqual(r.returncode, 2)
        r = self.verify()  # model exists, model.sig does not
        self.assertEqual(r.returncode, 2)

    def test_rsa_key_refused(self):
        from cryptography.hazmat.primitives.asymmetric import rsa
        write_key(self.tmp / "rsa.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        r = run(CLI, "sign", "--key", self.tmp / "rsa.pem", self.model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("elliptic", r.stderr)

    def test_encrypted_key_needs_its_password(self):
        write_key(self.tmp / "enc.pem", self.key, b"s3cret pass")
        r = run(CLI, "sign", "--key", self.tmp / "enc.pem", self.model)
        self.assertEqual(r.returncode, 2)
        (self.tmp / "pw").write_text("wrong\n")
        r = run(CLI, "sign", "--key", self.tmp / "enc.pem", "--password-file", self.tmp / "pw", self.model)
        self.assertEqual(r.returncode, 2)
        (self.tmp / "pw").write_text("s3cret pass\n")
        r = run(CLI, "sign", "--key", self.tmp / "enc.pem", "--password-file", self.tmp / "pw", self.model)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.verify().returncode, 0)

    def test_symlink_refused_when_signing(self):
        (self.model / "link").symlink_to(self.model / "config.json")
        r = run(CLI, "sign", "--key", self.tmp / "key.pem", self.model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("link: is a symbolic link", r.stderr)


if __name__ == "__main__":
    CLI = sys.argv.pop(1)
    unittest.main(verbosity=2)
