#!/usr/bin/env bash
# Benchmarks (P1-P4 of the performance issue): installs what it needs, then writes benchmarks/RESULTS.md.
# Extra arguments go to benchmarks/run.py (e.g. --quick).
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh" dev
cd "$ROOT"
python benchmarks/run.py "$@"
