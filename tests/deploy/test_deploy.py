"""The deployment files say what the docs promise, and a sharded scan through the CLI merges back
into the scan of the whole tree."""
import glob
import json
import os
import pickle
import re
import subprocess
import tempfile
import unittest

import yaml

SRC = os.environ["SECMLOPS_SOURCE_DIR"]
CLI = os.environ["SECMLOPS_CLI"]
COMPOSE = os.environ.get("SECMLOPS_DOCKER_COMPOSE", "")
K8S = os.path.join(SRC, "deploy", "kubernetes")


def k8s_documents():
    docs = {}
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        with open(path) as f:
            docs[os.path.basename(path)] = [d for d in yaml.safe_load_all(f) if d]
    return docs


def find(docs, kind, name=None):
    for file_docs in docs.values():
        for d in file_docs:
            if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name):
                return d
    raise AssertionError(f"no {kind} {name or ''}")


class Compose(unittest.TestCase):
    def config(self, *files):
        if not COMPOSE or not os.path.exists(COMPOSE):
            self.skipTest("docker-compose is not installed")
        args = [COMPOSE]
        for f in files:
            args += ["-f", os.path.join(SRC, f)]
        out = subprocess.run(args + ["config"], cwd=SRC, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return yaml.safe_load(out.stdout)

    def test_compose_file_validates_with_the_services_the_workshop_needs(self):
        c = self.config("docker-compose.yml")
        self.assertEqual(set(c["services"]), {"postgres", "mlflow", "secmlopsd", "workshop"})
        mlflow = c["services"]["mlflow"]
        self.assertEqual(mlflow["ports"][0]["published"], 5001)
        cmd = " ".join(mlflow["command"])
        self.assertIn("--serve-artifacts", cmd)
        self.assertIn("postgresql", cmd)
        # The official image, pinned to a version.
        with open(os.path.join(SRC, "deploy", "mlflow", "Dockerfile")) as f:
            self.assertRegex(f.read(), r"ghcr\.io/mlflow/mlflow:v\d+\.\d+\.\d+")
        d = c["services"]["secmlopsd"]
        models = [v for v in d["volumes"] if (v["target"] if isinstance(v, dict) else v.split(":")[1]) == "/models"]
        self.assertEqual(len(models), 1)
        self.assertTrue(models[0]["read_only"] if isinstance(models[0], dict) else models[0].endswith(":ro"))
        self.assertIn("--listen=unix:/run/secmlops/api.sock", d["command"])
        w = c["services"]["workshop"]
        self.assertEqual(w["entrypoint"], ["secmlops"])
        self.assertEqual(w["command"][:3], ["pipeline", "run", "pipelines/workshop.yaml"])
        self.assertIn("http://mlflow:5000", w["command"])

    def test_tls_overlay_adds_tls_and_tokens(self):
        c = self.config("docker-compose.yml", "deploy/compose/tls.yml")
        cmd = c["services"]["secmlopsd"]["command"]
        for flag in ("--tls-cert=", "--tls-key=", "--token-file=", "--listen=0.0.0.0:8443"):
            self.assertTrue(any(a.startswith(flag) for a in cmd), flag)


class Dockerfile(unittest.TestCase):
    def test_multi_stage_non_root_with_health_check_and_base_argument(self):
        with open(os.path.join(SRC, "Dockerfile")) as f:
            text = f.read()
        self.assertIn("ARG BASE=debian:12-slim", text)
        self.assertEqual(len(re.findall(r"^FROM \$\{BASE\} AS ", text, re.M)), 2)
        self.assertIn("--preset release", text)
        self.assertRegex(text, r"(?m)^USER secmlops$")
        self.assertRegex(text, r"(?m)^HEALTHCHECK .*\n\s+CMD \[\"secmlops-health\"")


class Kubernetes(unittest.TestCase):
    def setUp(self):
        self.docs = k8s_documents()

    def test_deployment_probes_the_grpc_health_service_and_has_resources(self):
        dep = find(self.docs, "Deployment", "secmlopsd")
        c = dep["spec"]["template"]["spec"]["containers"][0]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            self.assertEqual(c[probe]["exec"]["command"][0], "secmlops-health", probe)
        self.assertIn("limits", c["resources"])
        self.assertIn("requests", c["resources"])
        self.assertTrue(dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"])
        # Every mount has its volume; the model store is read-only.
        volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
        for m in c["volumeMounts"]:
            self.assertIn(m["name"], volumes)
        self.assertTrue(next(m for m in c["volumeMounts"] if m["mountPath"] == "/models")["readOnly"])
        svc = find(self.docs, "Service", "secmlopsd")
        self.assertEqual(svc["spec"]["selector"], dep["spec"]["selector"]["matchLabels"])
        hpa = find(self.docs, "HorizontalPodAutoscaler", "secmlopsd")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], "secmlopsd")

    def test_indexed_job_scans_one_shard_per_pod(self):
        job = find(self.docs, "Job", "secmlops-scan")
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        script = spec["template"]["spec"]["containers"][0]["args"][0]
        n = int(re.search(r'--shard "\$JOB_COMPLETION_INDEX/(\d+)"', script).group(1))
        self.assertEqual(spec["completions"], n)
        self.assertEqual(spec["parallelism"], n)
        self.assertIn("--format json", script)
        self.assertIn("--mlflow", script)
        merge = find(self.docs, "Job", "secmlops-scan-merge")
        self.assertIn("secmlops report merge", merge["spec"]["template"]["spec"]["containers"][0]["args"][0])
        claims = {d["metadata"]["name"] for d in self.docs["storage.yaml"]}
        for j in (job, merge):
            for v in j["spec"]["template"]["spec"]["volumes"]:
                if "persistentVolumeClaim" in v:
                    self.assertIn(v["persistentVolumeClaim"]["claimName"], claims)

    def test_kustomization_lists_existing_files(self):
        with open(os.path.join(K8S, "kustomization.yaml")) as f:
            k = yaml.safe_load(f)
        for r in k["resources"]:
            self.assertTrue(os.path.exists(os.path.join(K8S, r)), r)


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def cli(*args):
    return subprocess.run([CLI, "--log-level", "warn", *args], capture_output=True, text=True)


class ShardedScanThroughTheCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="secmlops-shard-")
        cls.root = os.path.join(cls.tmp.name, "store")
        for i in range(30):
            d = os.path.join(cls.root, f"team-{i % 4}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"model-{i}.pkl"), "wb") as f:
                f.write(pickle.dumps(Payload() if i == 17 else {"weights": [i, i + 1]}, protocol=2))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def scan(self, *args):
        r = cli("scan", "--format", "json", *args, self.root)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return json.loads(r.stdout)

    def test_shards_merge_into_the_whole_scan(self):
        whole = self.scan()
        self.assertEqual(whole["verdict"], "fail")
        for n in (1, 3, 8):
            files = []
            for k in range(n):
                path = os.path.join(self.tmp.name, f"shard-{n}-{k}.json")
                report = self.scan("--shard", f"{k}/{n}")
                files.append(path)
                with open(path, "w") as f:
                    json.dump(report, f)
            html = os.path.join(self.tmp.name, f"merged-{n}.html")
            r = cli("report", "merge", "--html", html, *files)
            self.assertEqual(r.returncode, 1, r.stderr)  # the hostile pickle: findings
            merged = json.loads(r.stdout)
            self.assertEqual([f["path"] for f in merged["files"]], [f["path"] for f in whole["files"]])
            self.assertEqual(merged["summary"], whole["summary"])
            self.assertEqual(merged["verdict"], "fail")
            with open(html) as f:
                self.assertIn("<html", f.read(2000).lower())
            sarif = cli("report", "merge", "--format", "sarif", *files)
            self.assertEqual(sarif.returncode, 1, sarif.stderr)
            self.assertEqual(json.loads(sarif.stdout)["version"], "2.1.0")
            if n > 1:
                r = cli("report", "merge", *files[1:])
                self.assertEqual(r.returncode, 2)
                self.assertIn("shards missing", r.stderr)

    def test_bad_shard_and_bad_input_are_errors(self):
        self.assertEqual(cli("scan", "--shard", "4/4", self.root).returncode, 2)
        bogus = os.path.join(self.tmp.name, "bogus.json")
        with open(bogus, "w") as f:
            f.write('{"not": "a report"}')
        r = cli("report", "merge", bogus)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a scan report", r.stderr)


if __name__ == "__main__":
    unittest.main()
