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
log "pytest"
python -m pytest "$@"
