"""Starts a private secmlopsd for a test: temp dir, unix socket and/or loopback TLS, fixture plugins."""
import os
import signal
import subprocess
import sys
import tempfile
import time

STUBS = os.environ.get("SECMLOPS_PY_STUBS")
if STUBS and STUBS not in sys.path:
    sys.path.insert(0, STUBS)

SECMLOPSD = os.environ["SECMLOPSD"]
FIXTURES = os.environ["SECMLOPS_FIXTURE_PLUGIN_DIR"]
CERT_SCRIPT = os.environ["SECMLOPS_CERT_SCRIPT"]
# The project's own plugins and CLI, for tests that compare the API with `secmlops --format json`.
PLUGINS = os.environ.get("SECMLOPS_PLUGIN_DIR")
CLI = os.environ.get("SECMLOPS_CLI")
PIPELINE_SPEC = os.path.join(os.environ.get("SECMLOPS_SOURCE_DIR", ""), "tests", "clients", "pipeline.yaml")
# Fields that differ between two runs of the same operation, wherever they occur.
RUN_DEPENDENT = {"duration_seconds", "started_at", "created_at", "elapsed_seconds", "mlflow_run_id",
                 "mlflow_run_url", "mlflow_experiment_id"}
TOKEN = "test-token-0123456789abcdef"


def normalised(value, out_dir=None):
    """A message's JSON mapping as dicts and lists (proto field names) without RUN_DEPENDENT fields,
    with the run directory `out_dir` written as <out>."""
    from google.protobuf import json_format
    if hasattr(value, "DESCRIPTOR"):
        value = json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, dict):
        return {k: normalised(v, out_dir) for k, v in value.items() if k not in RUN_DEPENDENT}
    if isinstance(value, list):
        return [normalised(v, out_dir) for v in value]
    if isinstance(value, str) and out_dir:
        return value.replace(out_dir, "<out>")
    return value


def make_certs(directory):
    subprocess.run(["bash", CERT_SCRIPT, directory], check=True)


class Server:
    """secmlopsd with the fixture plugins; `addresses` are the bound listeners."""

    def __init__(self, *extra_args, tls=False, mtls=False, token=False, listen=None, scan_root=True,
                 spill_dir=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="secmlopsd-test-")
        self.dir = self.tmp.name
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        self.certs = os.path.join(self.dir, "certs")
        self.spill = os.path.join(self.dir, "spill")
        os.makedirs(self.spill)
        ready = os.path.join(self.dir, "ready")
        args = [SECMLOPSD, "--plugin-dir", FIXTURES, "--ready-file", ready, "--log-level", "warn",
                "--drain-seconds", "2", "--spill-dir", spill_dir or self.spill]
        if scan_root:
            args += ["--scan-root", self.root]
        if listen is None:
            listen = ["unix:" + os.path.join(self.dir, "api.sock")]
            if tls or token:
                listen.append("127.0.0.1:0")
        for a in listen:
            args += ["--listen", a]
        if tls or mtls:
            make_certs(self.certs)
            args += ["--tls-cert", self.cert("server.crt"), "--tls-key", self.cert("server.key")]
        if mtls:
            args += ["--tls-client-ca", self.cert("ca.crt")]
        if token:
            path = os.path.join(self.dir, "tokens")
            with open(path, "w") as f:
                f.write("# test tokens\n" + TOKEN + "\n")
            os.chmod(path, 0o600)
            args += ["--token-file", path]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise RuntimeError("secmlopsd exited: " + self.proc.stderr.read())
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("secmlopsd did not start")
            time.sleep(0.02)
        with open(ready) as f:
            self.addresses = f.read().split()

    def cert(self, name):
        return os.path.join(self.certs, name)

    def read_cert(self, name):
        with open(self.cert(name), "rb") as f:
            return f.read()

    @property
    def unix(self):
        return next(a for a in self.addresses if a.startswith("unix:"))

    @property
    def tcp(self):
        return next(a for a in self.addresses if not a.startswith("unix:"))

    def write(self, relative, data):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        self.tmp.cleanup()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
