#!/usr/bin/python3
"""A small MLflow tracking server for tests: the REST endpoints the secmlops reporter uses, with
MLflow's validation and error behaviour (batch limits, key syntax, immutable params, 400/404
codes, RESOURCE_ALREADY_EXISTS, HTML error pages, silent truncation of long values) and failure
injection (503, 429 with Retry-After, connection resets, timeouts, answers lost after the write).

Usage: fake_mlflow_server.py --port-file FILE   (binds 127.0.0.1 on a free port, writes it)
Control: POST /_test/inject {"path": "runs/log-batch", "mode": "503|429|reset|timeout|html500|
         lost", "count": N, "retry_after": S}; GET /_test/state; POST /_test/create-model-version.
"""
import argparse
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

KEY_RE = re.compile(r"^[/\w.\- :]*$")
MAX_KEY = 250
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 8000
STATUSES = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}

lock = threading.Lock()
state = {"experiments": {}, "runs": {}, "artifacts": {}, "models": {}, "next_exp": 1,
         "requests": []}
injections = []  # dicts: path, mode, count, retry_after


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad(msg):
    return ApiError(400, "INVALID_PARAMETER_VALUE", msg)


def missing(msg):
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", msg)


def validate_key(kind, key):
    if not isinstance(key, str):
        raise bad(f"Missing value for required parameter 'key' of {kind}")
    if len(key) > MAX_KEY:
        raise bad(f"{kind} name '{key[:50]}' had length {len(key)}, which exceeded length limit of {MAX_KEY}")
    if not KEY_RE.match(key):
        raise bad(f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), "
                  "dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).")
    import posixpath
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise bad(f"Invalid {kind} name: '{key}'. Names cannot resolve to a different path")


def experiment_json(e):
    return {"experiment_id": e["id"], "name": e["name"], "artifact_location": e["artifact_location"],
            "lifecycle_stage": e["lifecycle_stage"], "creation_time": e["creation_time"],
            "last_update_time": e["creation_time"], "tags": []}


def run_json(r):
    latest = {}
    for m in r["metrics"]:
        latest[m["key"]] = m
    return {"info": {"run_id": r["run_id"], "run_uuid": r["run_id"], "experiment_id": r["experiment_id"],
                     "run_name": r["run_name"], "status": r["status"], "start_time": r["start_time"],
                     "user_id": r.get("user_id", ""),
                     "end_time": r.get("end_time"), "artifact_uri": r["artifact_uri"],
                     "lifecycle_stage": "active"},
            "data": {"metrics": list(latest.values()),
                     "params": [{"key": k, "value": v} for k, v in r["params"].items()],
                     "tags": [{"key": k, "value": v} for k, v in r["tags"].items()]},
            "inputs": {"dataset_inputs": r["inputs"]}}


def get_run(run_id):
    r = state["runs"].get(run_id)
    if r is None:
        raise missing(f"Run with id={run_id} not found")
    return r


def handle_api(method, path, query, body):
    s = state
    if path == "experiments/get-by-name" and method == "GET":
        name = query.get("experiment_name", [None])[0]
        for e in s["experiments"].values():
            if e["name"] == name:
                return {"experiment": experiment_json(e)}
        raise missing(f"Could not find experiment with name '{name}'")
    if path == "experiments/get" and method == "GET":
        e = s["experiments"].get(query.get("experiment_id", [""])[0])
        if e is None:
            raise missing(f"No Experiment with id={query.get('experiment_id', [''])[0]} exists")
        return {"experiment": experiment_json(e)}
    if path == "experiments/create" and method == "POST":
        name = body.get("name")
        if not name:
            raise bad("Missing value for required parameter 'name'.")
        if len(name) > 500:
            raise bad("experiment name exceeds 500 characters")
        if any(e["name"] == name for e in s["experiments"].values()):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS",
                           f"Experiment(name={name}) already exists. Error: (raised as a result of Query-invoked autoflush) UNIQUE constraint failed")
        eid = str(s["next_exp"])
        s["next_exp"] += 1
        s["experiments"][eid] = {"id": eid, "name": name, "lifecycle_stage": "active",
                                 "artifact_location": s.get("artifact_root", "mlflow-artifacts:/") + eid,
                                 "creation_time": int(time.time() * 1000)}
        return {"experiment_id": eid}
    if path == "runs/create" and method == "POST":
        eid = str(body.get("experiment_id", ""))
        e = s["experiments"].get(eid)
        if e is None:
            raise missing(f"No Experiment with id={eid} exists")
        run_id = uuid.uuid4().hex
        tags = {}
        for t in body.get("tags", []):
            validate_key("tag", t["key"])
            tags[t["key"]] = t["value"][:TAG_VALUE_MAX]
        if body.get("run_name") and tags.get("mlflow.runName", body["run_name"]) != body["run_name"]:
            raise bad("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                      f"different values (run_name='{body['run_name']}', mlflow.runName='{tags['mlflow.runName']}').")
        name = body.get("run_name") or tags.get("mlflow.runName") or "fake-run"
        tags["mlflow.runName"] = name
        s["runs"][run_id] = {"run_id": run_id, "experiment_id": eid, "run_name": name, "status": "RUNNING",
                             "user_id": body.get("user_id", ""),
                             "start_time": body.get("start_time", 0), "end_time": None,
                             "artifact_uri": f"{e['artifact_location']}/{run_id}/artifacts",
                             "params": {}, "tags": tags, "metrics": [], "inputs": []}
        return {"run": run_json(s["runs"][run_id])}
    if path == "runs/get" and method == "GET":
        return {"run": run_json(get_run(query.get("run_id", [""])[0]))}
    if path == "runs/update" and method == "POST":
        r = get_run(body.get("run_id") or body.get("run_uuid"))
        status = body.get("status")
        if status in STATUSES:  # MLflow ignores unknown statuses silently
            r["status"] = status
        if "end_time" in body:
            r["end_time"] = body["end_time"]
        return {"run_info": run_json(r)["info"]}
    if path == "runs/search" and method == "POST":
        ids = [str(i) for i in body.get("experiment_ids", [])]
        flt = body.get("filter", "")
        m = re.match(r"^tags\.`?([^`=]+?)`?\s*=\s*'([^']*)'$", flt.strip()) if flt else None
        if flt and not m:
            raise bad(f"Invalid filter '{flt}' (this test server understands tags.k = 'v')")
        runs = [r for r in s["runs"].values() if r["experiment_id"] in ids
                and (m is None or r["tags"].get(m.group(1)) == m.group(2))]
        return {"runs": [run_json(r) for r in runs]}
    if path == "runs/log-batch" and method == "POST":
        if body is None:
            raise ApiError(500, "HTML", "TypeError")
        r = get_run(body.get("run_id"))
        metrics, params, tags = body.get("metrics", []), body.get("params", []), body.get("tags", [])
        if len(metrics) > 1000:
            raise bad(f"A batch logging request can contain at most 1000 metrics. Got {len(metrics)} metrics. Please split up metrics across multiple requests and try again.")
        if len(params) > 100:
            raise bad(f"A batch logging request can contain at most 100 params. Got {len(params)} params.")
        if len(tags) > 100:
            raise bad(f"A batch logging request can contain at most 100 tags. Got {len(tags)} tags.")
        if len(metrics) + len(params) + len(tags) > 1000:
            raise bad("A batch logging request can contain at most 1000 total metrics, params and tags.")
        keys = [p["key"] for p in params]
        if len(set(keys)) != len(keys):
            raise bad("Duplicate parameter keys have been submitted.")
        for p in params:
            validate_key("param", p["key"])
            v = p["value"][:PARAM_VALUE_MAX]  # silently truncated, as MLflow does
            if p["key"] in r["params"] and r["params"][p["key"]] != v:
                raise bad(f"Changing param values is not allowed. Param with key='{p['key']}' was already logged with value='{r['params'][p['key']]}' for run ID='{r['run_id']}'. Attempted logging new value '{v}'.")
        for m in metrics:
            validate_key("metric", m["key"])
            if "timestamp" not in m:
                raise bad("Missing value for required parameter 'metrics[0].timestamp'")
        for t in tags:
            validate_key("tag", t["key"])
        for p in params:
            r["params"][p["key"]] = p["value"][:PARAM_VALUE_MAX]
        for m in metrics:
            v = m["value"]
            if isinstance(v, str):
                v = {"NaN": "NaN", "Infinity": 1.7976931348623157e308, "-Infinity": -1.7976931348623157e308}.get(v, 0.0)
            r["metrics"].append({"key": m["key"], "value": v, "timestamp": int(m["timestamp"]),
                                 "step": int(m.get("step", 0))})
        for t in tags:
            r["tags"][t["key"]] = t["value"][:TAG_VALUE_MAX]
        return {}
    if path == "runs/log-inputs" and method == "POST":
        r = get_run(body.get("run_id"))
        for d in body.get("datasets", []):
            ds = d.get("dataset", {})
            if len(ds.get("digest", "")) > 36:
                raise bad(f"Dataset digest '{ds['digest']}' exceeds 36 characters")
            if len(ds.get("name", "")) > 500:
                raise bad("Dataset name exceeds 500 characters")
            if len(ds.get("schema", "")) > 1048575:
                raise bad("Dataset schema exceeds 1048575 characters")
            if len(ds.get("profile", "")) > 16384:
                raise bad("Dataset profile exceeds 16384 characters")
            for field in ("schema", "profile"):
                if field in ds and not isinstance(ds[field], str):
                    raise bad(f"Dataset {field} must be a string")
            for t in d.get("tags", []):
                if len(t.get("key", "")) > 255 or len(t.get("value", "")) > 500:
                    raise bad(f"Input tag '{t.get('key', '')[:50]}' exceeds the key (255) or value (500) limit")
            if not any(x["dataset"]["name"] == ds.get("name") and x["dataset"]["digest"] == ds.get("digest")
                       for x in r["inputs"]):
                r["inputs"].append(d)
        return {}
    if path == "metrics/get-history" and method == "GET":
        r = get_run(query.get("run_id", [""])[0])
        key = query.get("metric_key", [""])[0]
        return {"metrics": [m for m in r["metrics"] if m["key"] == key]}
    if path == "model-versions/set-tag" and method == "POST":
        mv = s["models"].get((body.get("name"), str(body.get("version"))))
        if mv is None:
            raise missing(f"Model Version (name={body.get('name')}, version={body.get('version')}) not found")
        validate_key("tag", body.get("key"))
        mv[body["key"]] = body.get("value", "")[:5000]
        return {}
    raise ApiError(404, "ENDPOINT_NOT_FOUND", path)


HTML_PAGE = "<!doctype html>\n<html lang=en>\n<title>{t}</title>\n<h1>{t}</h1>\n<p>{m}</p>\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def html(self, status, title, message):
        self.send(status, HTML_PAGE.format(t=title, m=message), "text/html; charset=utf-8")

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        return self.rfile.read(n) if n else b""

    def injection(self, path):
        with lock:
            for inj in injections:
                if inj["count"] > 0 and path.startswith(inj["path"]):
                    inj["count"] -= 1
                    return dict(inj)
        return None

    def dispatch(self, method):
        url = urlparse(self.path)
        raw = self.read_body()
        with lock:
            state["requests"].append({"method": method, "path": url.path,
                                      "auth": self.headers.get("Authorization", ""),
                                      "time": int(time.time() * 1000)})
        if self.headers.get("Authorization") is None and state.get("auth"):
            return self.send(401, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.",
                             "text/html", {"WWW-Authenticate": 'Basic realm="mlflow"'})
        if url.path == "/_test/inject":
            with lock:
                injections.append(json.loads(raw))
            return self.send(200, "{}")
        if url.path == "/_test/state":
            with lock:
                out = {"experiments": state["experiments"], "runs": state["runs"],
                       "artifacts": {k: len(v) for k, v in state["artifacts"].items()},
                       "models": {f"{k[0]}/{k[1]}": v for k, v in state["models"].items()},
                       "requests": state["requests"]}
            return self.send(200, json.dumps(out))
        if url.path == "/_test/clear-injections":
            with lock:
                injections.clear()
            return self.send(200, "{}")
        if url.path == "/_test/configure":
            with lock:
                state.update(json.loads(raw))
            return self.send(200, "{}")
        if url.path == "/_test/create-model-version":
            b = json.loads(raw)
            with lock:
                state["models"][(b["name"], str(b["version"]))] = {}
            return self.send(200, "{}")
        if url.path.startswith("/_test/artifact/"):
            key = unquote(url.path[len("/_test/artifact/"):])
            with lock:
                data = state["artifacts"].get(key)
            return self.send(200, data, "application/octet-stream") if data is not None else self.html(404, "404 Not Found", key)

        inj = self.injection(url.path.split("/api/2.0/", 1)[-1])
        if inj:
            mode = inj["mode"]
            if mode == "503":
                return self.send(503, json.dumps({"error_code": "TEMPORARILY_UNAVAILABLE", "message": "try later"}))
            if mode == "429":
                return self.send(429, json.dumps({"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}),
                                 extra={"Retry-After": str(int(inj.get("retry_after", 1)))})
            if mode == "502":
                return self.html(502, "502 Bad Gateway", "nginx")
            if mode == "notfound":
                return self.send(404, json.dumps({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "not found"}))
            if mode == "html500":
                return self.html(500, "500 Internal Server Error", "The server encountered an internal error and was unable to complete your request.")
            if mode == "reset":
                return self.reset()
            if mode == "timeout":
                time.sleep(inj.get("seconds", 5))
                return self.reset()
            # "lost": the write happens, then the answer is lost.

        if url.path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
            key = unquote(url.path[len("/api/2.0/mlflow-artifacts/artifacts/"):])
            if ".." in key.split("/"):
                return self.send(400, json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}))
            if method == "PUT":
                with lock:
                    state["artifacts"][key] = raw
                if inj and inj["mode"] == "lost":
                    return self.reset()
                return self.send(200, "{}")
            if method == "GET":
                with lock:
                    data = state["artifacts"].get(key)
                return self.send(200, data, "application/octet-stream") if data is not None else self.html(404, "404 Not Found", key)
            return self.html(405, "405 Method Not Allowed", "The method is not allowed for the requested URL.")

        if not url.path.startswith("/api/2.0/mlflow/"):
            return self.html(404, "404 Not Found", "The requested URL was not found on the server.")
        api = url.path[len("/api/2.0/mlflow/"):]
        body = {}
        if method == "POST":
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self.send(400, json.dumps({"error_code": "INVALID_PARAMETER_VALUE",
                                                  "message": "Bad Request. Content-Type must be one of ['application/json']."}))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                if api == "runs/log-batch":
                    return self.html(500, "500 Internal Server Error", "The server encountered an internal error and was unable to complete your request.")
                return self.send(400, json.dumps({"error_code": "MALFORMED_REQUEST", "message": "bad json"}))
        try:
            with lock:
                out = handle_api(method, api, parse_qs(url.query), body)
        except ApiError as e:
            if e.code == "ENDPOINT_NOT_FOUND":
                return self.html(404, "404 Not Found", "The requested URL was not found on the server.")
            return self.send(e.status, json.dumps({"error_code": e.code, "message": e.message}))
        if inj and inj["mode"] == "lost":
            return self.reset()
        return self.send(200, json.dumps(out))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
