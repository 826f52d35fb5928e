#!/usr/bin/env bash
# The main job: sets up what is missing, builds the release preset, then runs the Secure-MLOps
# workshop as one pipeline (pipelines/workshop.yaml): synthetic data with provenance, three
# models with overfitting detection, a scan of their files beside known-hostile samples, FGSM,
# PGD, HopSkipJump and transfer attacks, gates, per-model security analyses — every run recorded
# in ./mlruns (MLflow's file store; `mlflow ui --backend-store-uri ./mlruns`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
bin=build/release/bin
out=build/release/workshop
rm -rf "$out"

set +e
"$bin/secmlops" pipeline run pipelines/workshop.yaml --output "$out" --mlflow="file:$PWD/mlruns"
status=$?
set -e
echo
echo "Where to look:"
echo "  summary and per-model analyses: $out/reports/ (summary.txt, *_security_analysis_*.txt)"
echo "  the whole result:               $out/pipeline-report.json (the PipelineReport message)"
echo "  scan results for code scanning: $out/reports/scan.sarif"
echo "  MLflow runs:                    ./mlruns (mlflow ui --backend-store-uri ./mlruns)"
# Exit 1 means a gate failed: the workshop's hostile samples fail the severity gate on purpose.
if [[ $status -eq 1 ]]; then
  echo "The severity gate failed as intended: the scan caught the malicious samples."
  exit 0
fi
exit $status
