#!/usr/bin/env bash
# README command 2: lint, type-check and run the test suite (integration tests start a real local
# Flink cluster of their own on free ports). Extra arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh" dev
cd "$ROOT"

log "ruff"
ruff check .
ruff format --check .
log "mypy"
mypy
log "kube-apiserver + etcd for tests/k8s (built once from Debian packages, cached in ~/.cache/kube-apiserver-debian)"
if ! bash scripts/build-kube-apiserver.sh >"$VENV/kube-apiserver-build.log" 2>&1; then
  log "kube-apiserver build failed: tests/k8s will skip and print why (log: $VENV/kube-apiserver-build.log)"
fi
log "pytest"
python -m pytest "$@"
