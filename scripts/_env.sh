# Shared set-up for the README commands: a project virtualenv with this provider installed, and Java 17.
# Idempotent: re-running only installs what is missing. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FLINKBATCH_VENV:-$ROOT/.venv}"
EXTRAS="${1:-local}"
export FLINKBATCH_HOME="${FLINKBATCH_HOME:-$ROOT/.flinkbatch}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_java() {
  if command -v javac >/dev/null 2>&1 && javac -version 2>&1 | grep -Eq 'javac (1[7-9]|2[0-9])'; then
    return
  fi
  log "Installing OpenJDK 17 (javac is needed to build the SQL runner)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
}

ensure_venv() {
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    if command -v python3.11 >/dev/null 2>&1; then python=python3.11; else python=python3; fi
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "Creating virtualenv $VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$EXTRAS"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    log "Installing airflow-provider-flinkbatch[$EXTRAS] (first run takes a few minutes)"
    local pip_log="$VENV/pip-install.log"
    if ! { "$VENV/bin/python" -m pip install --upgrade pip && "$VENV/bin/python" -m pip install -e "$ROOT[$EXTRAS]"; } \
        >"$pip_log" 2>&1; then
      tail -40 "$pip_log" >&2
      echo "pip install failed; full log: $pip_log" >&2
      exit 1
    fi
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

ensure_java
ensure_venv
