"""Talks to a secmlopsd running in a container (scripts/container-test.sh): health, an uploaded
pickle and a scan of the read-only scan root. Prints what it saw; exits non-zero on a mismatch.

    container_check.py ADDRESS SCAN_ROOT [--tls-ca CA.crt --token-file TOKENS]

With TLS, every call carries the first token, and a call without it must be refused.
"""
import argparse
import os
import pickle
import sys
import time

STUBS = os.environ.get("SECMLOPS_PY_STUBS")
if STUBS:
    sys.path.insert(0, STUBS)

import grpc  # noqa: E402
from grpc_std.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from secmlops.v1 import scan_service_pb2 as scan_pb  # noqa: E402
from secmlops.v1 import scan_service_pb2_grpc as scan_grpc  # noqa: E402
from secmlops.v1 import report_pb2  # noqa: E402


class Payload:
    """Unpickling this would run a shell command: the scanner must say so without unpickling."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def chunks(name, data, size=64 * 1024):
    yield scan_pb.UploadChunk(name=name, data=data[:size])
    for i in range(size, len(data), size):
        yield scan_pb.UploadChunk(data=data[i:i + size])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("scan_root")
    ap.add_argument("--tls-ca")
    ap.add_argument("--token-file")
    a = ap.parse_args()
    address, in_root = a.address, a.scan_root
    md = None
    if a.tls_ca:
        with open(a.tls_ca, "rb") as f:
            channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=f.read()))
        with open(a.token_file) as f:
            token = next(line.strip() for line in f if line.strip() and not line.startswith("#"))
        md = [("authorization", "Bearer " + token)]
    else:
        channel = grpc.insecure_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.time() + 60
    while True:
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status
            break
        except grpc.RpcError as e:
            if time.time() > deadline:
                raise SystemExit(f"health: no answer from {address}: {e.code()}")
            time.sleep(0.5)
    print(f"health: {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}")
    if status != health_pb2.HealthCheckResponse.SERVING:
        raise SystemExit("health: not serving")

    scans = scan_grpc.ScanServiceStub(channel)
    data = pickle.dumps(Payload(), protocol=4)
    if md:
        try:
            scans.ScanUpload(chunks("uploaded.pkl", data), timeout=60)
            raise SystemExit("tls: a call without a token was served")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise
            print(f"without a token: {e.code().name}")
    t0 = time.monotonic()
    r = scans.ScanUpload(chunks("uploaded.pkl", data), timeout=60, metadata=md)
    ms = (time.monotonic() - t0) * 1000
    print(f"upload: {r.path} {len(data)} bytes, status {report_pb2.FileStatus.Name(r.status)}, "
          f"{len(r.findings)} finding(s) in {ms:.0f} ms")
    for f in r.findings:
        print(f"  {report_pb2.Severity.Name(f.severity)} {f.rule_id}: {f.message}")
    if not any(f.severity >= report_pb2.HIGH and "system" in f.message for f in r.findings):
        raise SystemExit("upload: the os.system payload was not reported")

    rep = scans.Report(scan_pb.ScanRequest(paths=[in_root]), timeout=60, metadata=md)
    print(f"scan root: {rep.summary.files} file(s), verdict {rep.verdict}, max severity "
          f"{report_pb2.Severity.Name(rep.summary.max_severity)}")
    if rep.summary.files < 1 or rep.verdict != "fail":
        raise SystemExit("scan root: expected the hostile pickle to fail the scan")
    print("container check: OK")


if __name__ == "__main__":
    main()
