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
log "Connector/format jars and a Kafka broker from Maven Central (once, into ${FLINKBATCH_JAR_CACHE:-~/.cache/flinkbatch-maven})"
if ! command -v mvn >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq maven; } \
    >"$VENV/maven-install.log" 2>&1 || log "maven install failed (log: $VENV/maven-install.log)"
fi
if ! python -m airflow_provider_flinkbatch.local.jars; then
  # Under CI a real component that cannot be had fails the run; elsewhere the tests that need it skip and say why.
  if [ "${CI:-}" = true ]; then exit 1; fi
  log "jar resolution failed: the Kafka/Parquet/Avro tests will skip and say why"
fi
log "kube-apiserver + etcd for tests/k8s (built once from Debian packages, cached in ~/.cache/kube-apiserver-debian)"
if ! bash scripts/build-kube-apiserver.sh >"$VENV/kube-apiserver-build.log" 2>&1; then
  if [ "${CI:-}" = true ]; then
    # Under CI a real component that cannot be installed fails the run (tests/k8s would fail too).
    tail -n 40 "$VENV/kube-apiserver-build.log" >&2
    log "kube-apiserver build failed under CI=true (log: $VENV/kube-apiserver-build.log)"; exit 1
  fi
  log "kube-apiserver build failed: tests/k8s will skip and print why (log: $VENV/kube-apiserver-build.log)"
fi
log "Hadoop jars for the real local YARN cluster (resolved once from Maven Central, cached in ~/.cache/flinkbatch-hadoop)"
if ! command -v mvn >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq maven; } \
    >"$VENV/maven-install.log" 2>&1 || log "maven install failed (log: $VENV/maven-install.log)"
fi
if ! python -m airflow_provider_flinkbatch.local.yarn_jars >"$VENV/hadoop-jars.log" 2>&1; then
  if [ "${CI:-}" = true ]; then
    # Under CI a real component that cannot be installed fails the run (the real-YARN tests would fail too).
    tail -n 40 "$VENV/hadoop-jars.log" >&2
    log "Hadoop jar resolution failed under CI=true (log: $VENV/hadoop-jars.log)"; exit 1
  fi
  log "Hadoop jar resolution failed: the real-YARN tests will skip and print why (log: $VENV/hadoop-jars.log)"
fi
if [ "${FLINKBATCH_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  # Opt-in: FLINKBATCH_BROWSER=1 installs chromium and runs the browser tests after the suite (they are
  # deselected otherwise, see docs/ui.md); if chromium cannot be installed they skip and say why
  # (under CI=true the run fails instead).
  log "Installing Debian's chromium for the browser tests (FLINKBATCH_BROWSER=1)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } \
    >"$VENV/chromium-install.log" 2>&1 || {
    if [ "${CI:-}" = true ]; then
      tail -n 40 "$VENV/chromium-install.log" >&2
      log "chromium install failed under CI=true (log: $VENV/chromium-install.log)"; exit 1
    fi
    log "chromium install failed (log: $VENV/chromium-install.log)"
  }
fi
log "pytest"
python -m pytest "$@"
if [ "${FLINKBATCH_BROWSER:-0}" = 1 ] && [[ "$*" != *browser* ]]; then
  log "pytest -m browser (real Airflow + headless Chromium, docs/ui.md)"
  python -m pytest -m browser tests/browser -q -ra
fi
