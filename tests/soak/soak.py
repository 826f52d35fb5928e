#!/usr/bin/python3
"""Soak test of secmlopsd against mixed, partly hostile clients (loopback unix socket only).

For --seconds (default 600) and at most --requests requests, client threads keep sending:
valid uploads (EVIL/GOOD, the answer is checked), uploads a fixture plugin crashes, aborts or
loops on, stalled uploads (ended by the idle timeout), malformed chunks, cancelled scans and
Scan(paths) over a root holding a FIFO and a device link. Afterwards, once the server is idle,
its RSS, open descriptors, threads, spill files and scan workers are compared with the baseline
taken after warm-up. Exit 0 only when no request was answered wrongly and everything is back.

  tests/soak/soak.py BUILD_DIR [--seconds S] [--requests N] [--clients C]
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--seconds", type=float, default=600)
ap.add_argument("--requests", type=int, default=200000)
ap.add_argument("--clients", type=int, default=6)
args = ap.parse_args()

build = os.path.abspath(args.build)
src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
tmp = tempfile.mkdtemp(prefix="secmlops-soak-")
stubs = os.path.join(tmp, "stubs")
os.makedirs(stubs)
protos = ["secmlops/v1/" + p for p in os.listdir(os.path.join(src, "proto/secmlops/v1")) if p.endswith(".proto")]
subprocess.check_call(["protoc", "-I", os.path.join(src, "proto"), "--python_out", stubs, "--grpc_out", stubs,
                       "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos)
sys.path.insert(0, stubs)
import grpc  # noqa: E402
from secmlops.v1 import scan_service_pb2 as scan_pb, scan_service_pb2_grpc as scan_grpc  # noqa: E402
from secmlops.v1 import report_pb2  # noqa: E402

root = os.path.join(tmp, "root")
spill = os.path.join(tmp, "spill")
os.makedirs(root)
os.makedirs(spill)
open(os.path.join(root, "evil.bin"), "wb").write(b"EVIL in the root")
open(os.path.join(root, "good.bin"), "wb").write(b"GOOD in the root")
open(os.path.join(root, "slow.bin"), "wb").write(b"SLOW and steady")
os.mkfifo(os.path.join(root, "pipe"))
os.symlink("/dev/zero", os.path.join(root, "zero"))
sock = os.path.join(tmp, "api.sock")
ready = os.path.join(tmp, "ready")
server = subprocess.Popen([
    os.path.join(build, "bin/secmlopsd"), "--listen", "unix:" + sock, "--ready-file", ready,
    "--plugin-dir", os.path.join(build, "tests/plugin-fixtures"),
    "--plugin-dir", os.path.join(build, "tests/hostile-plugin"),
    "--scan-root", root, "--spill-dir", spill, "--threads", "2", "--seconds-per-file", "2",
    "--upload-idle-seconds", "2", "--upload-spill-bytes", "65536", "--max-concurrent-uploads", "32",
    "--log-level", "error"])
for _ in range(300):
    if os.path.exists(ready):
        break
    time.sleep(0.1)
else:
    sys.exit("secmlopsd did not start")
pid = server.pid


def metrics():
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {"rss_mib": rss / 2**20, "fds": fds, "threads": threads, "spill_files": len(os.listdir(spill)),
            "workers": len(children)}


channel = grpc.insecure_channel("unix:" + sock)
stub = scan_grpc.ScanServiceStub(channel)
upload_raw = channel.stream_unary("/secmlops.v1.ScanService/ScanUpload",
                                  request_serializer=lambda b: b,
                                  response_deserializer=report_pb2.FileReport.FromString)


def chunks(name, data, size=16384):
    yield scan_pb.UploadChunk(name=name, data=data[:size])
    for off in range(size, len(data), size):
        yield scan_pb.UploadChunk(data=data[off:off + size])


counts = {}
wrong = []
lock = threading.Lock()


def record(kind, ok, detail=""):
    with lock:
        counts[kind] = counts.get(kind, 0) + 1
        if not ok:
            wrong.append(f"{kind}: {detail}")


def valid():
    evil = random.random() < 0.5
    body = (b"EVIL " if evil else b"GOOD ") + os.urandom(random.randint(0, 200000))
    r = stub.ScanUpload(chunks("v.bin", body), timeout=30)
    record("valid upload", len(r.findings) == (1 if evil else 0), str(r.findings))


def hostile():
    word = random.choice([b"segv  ", b"abort ", b"loop  ", b"alloc ", b"passwd", b"socket"])
    r = stub.ScanUpload(chunks("h.bin", b"HOSTILE " + word), timeout=30)
    leak = any(f.rule_id == "FIXTURE-LEAK" for f in r.findings)
    kept = any(f.rule_id == "FIXTURE-HOSTILE" for f in r.findings)
    record("hostile plugin", kept and not leak, f"{word}: {r.status} {r.error}")


def stalled():
    def gen():
        yield scan_pb.UploadChunk(name="stalled", data=b"x" * 100000)
        time.sleep(5)
        yield scan_pb.UploadChunk(data=b"late")
    try:
        stub.ScanUpload(gen(), timeout=30)
        record("stalled upload", False, "answered OK")
    except grpc.RpcError as e:
        record("stalled upload", e.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED),
               str(e.code()))


def malformed():
    first = scan_pb.UploadChunk(name="m.bin").SerializeToString()
    body = scan_pb.UploadChunk(data=b"EVIL after garbage").SerializeToString()
    try:
        upload_raw(iter([first, b"\x0a\x7f\x01", body]), timeout=30)
        record("malformed chunk", False, "answered OK")
    except grpc.RpcError as e:
        record("malformed chunk", e.code() == grpc.StatusCode.INVALID_ARGUMENT, str(e.code()))


def cancelled():
    call = stub.Scan(scan_pb.ScanRequest(paths=["slow.bin"]), timeout=30)
    threading.Timer(0.1, call.cancel).start()
    try:
        for _ in call:
            pass
        record("cancelled scan", False, "completed")
    except grpc.RpcError as e:
        record("cancelled scan", e.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.RESOURCE_EXHAUSTED), str(e.code()))


def tree():
    seen = {os.path.basename(r.path): r for r in stub.Scan(scan_pb.ScanRequest(paths=["."]), timeout=30)}
    ok = (seen["pipe"].status == report_pb2.SKIPPED and seen["zero"].status == report_pb2.SKIPPED
          and len(seen["evil.bin"].findings) == 1 and len(seen["good.bin"].findings) == 0)
    record("scan of a root", ok, str({k: v.status for k, v in seen.items()}))


mix = [valid] * 10 + [hostile] * 3 + [stalled, malformed, cancelled, tree]

# Warm-up with every kind of request from several clients at once (gRPC's executor grows its
# threads on demand and keeps them), then the baseline.
def warm():
    for op in mix:
        try:
            op()
        except grpc.RpcError:
            pass


warmers = [threading.Thread(target=warm) for _ in range(args.clients)]
for t in warmers:
    t.start()
for t in warmers:
    t.join()
time.sleep(6)
baseline = metrics()
deadline = time.monotonic() + args.seconds
budget = [args.requests]


def client():
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        op = random.choice(mix)
        try:
            op()
        except grpc.RpcError as e:
            ok = e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # a full queue is a valid answer
            record(op.__name__ + " (rpc error)", ok, str(e.code()) + " " + str(e.details()))


t0 = time.monotonic()
threads = [threading.Thread(target=client) for _ in range(args.clients)]
for t in threads:
    t.start()
peak = baseline
while any(t.is_alive() for t in threads):
    time.sleep(2)
    m = metrics()
    peak = {k: max(peak[k], m[k]) for k in m}
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
time.sleep(6)  # idle timeouts and worker replacement settle
after = metrics()
channel.close()
server.send_signal(signal.SIGTERM)
code = server.wait(timeout=30)

print(f"soak: {elapsed:.0f} s, {sum(counts.values())} requests, {len(wrong)} answered wrongly, exit {code}")
for k in sorted(counts):
    print(f"  {k:<28} {counts[k]}")
print("  metric        baseline   peak      after")
for k in baseline:
    print(f"  {k:<12} {baseline[k]:>9.1f} {peak[k]:>9.1f} {after[k]:>9.1f}")
for w in wrong[:20]:
    print("  WRONG", w)
leaks = []
if after["rss_mib"] > baseline["rss_mib"] + 32:
    leaks.append("rss")
for k in ("fds", "threads", "spill_files", "workers"):
    if after[k] > baseline[k]:
        leaks.append(k)
if leaks:
    print("  NOT BACK TO BASELINE:", ", ".join(leaks))
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(0 if not wrong and not leaks and code == 0 else 1)
