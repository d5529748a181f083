#!/usr/bin/env bash
# Create the Python environments the example app and its tests run in:
#
#   .venv/celery-5.7  from examples/tenant-app/requirements.txt          (Python >= 3.11)
#   .venv/celery-5.2  from examples/tenant-app/requirements-celery52.txt (Python 3.10/3.11)
#
# Idempotent: an environment whose stamp file holds the sha256 of its
# requirements file (and whose interpreter still runs) is left alone; any
# other is rebuilt from scratch. Needs python3 with the venv module (Debian/
# Ubuntu: apt-get install python3-venv) and access to PyPI.
#
# Environment:
#   PYTHON           interpreter for the environments (default: python3)
#   PYTHON_CELERY52  interpreter for celery-5.2 only. Default: $PYTHON if it is
#                    older than 3.12, else the first python3.11/python3.10 on
#                    PATH. kombu 5.2.4 cannot be imported on Python >= 3.12;
#                    with no older interpreter the celery-5.2 environment is
#                    skipped (with a message), or the script fails if
#                    REQUIRE_CELERY52=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
APP_DIR=examples/tenant-app

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

die() {
  echo "setup-python: $*" >&2
  exit 1
}

# "3 11" for an interpreter, or nothing if it does not run.
py_version() {
  "$1" -c 'import sys; print(sys.version_info[0], sys.version_info[1])' 2>/dev/null || true
}

sha256_of() {
  "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

command -v "$PYTHON" >/dev/null 2>&1 || die "interpreter '$PYTHON' not found (set PYTHON=...)"
read -r PY_MAJOR PY_MINOR <<<"$(py_version "$PYTHON")" || true
[[ -n "${PY_MAJOR:-}" ]] || die "'$PYTHON' does not run"

# setup_env NAME REQUIREMENTS INTERPRETER
setup_env() {
  local name=$1 req=$2 py=$3
  local dir=.venv/$name
  local stamp=$dir/.requirements.sha256
  local want
  want=$(sha256_of "$req")

  if [[ -x $dir/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]] \
    && "$dir/bin/python" -c 'import celery' >/dev/null 2>&1; then
    :  # up to date
  else
    rm -f "$stamp"
    local log
    log=$(mktemp)
    if ! "$py" -m venv --clear "$dir" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      die "could not create $dir with $py (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    if ! "$dir/bin/python" -m pip install --quiet --require-virtualenv -r "$req" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      die "pip install -r $req into $dir failed"
    fi
    rm -f "$log"
    printf '%s\n' "$want" >"$stamp"
  fi

  local version
  version=$("$dir/bin/celery" --version 2>&1) || die "$dir/bin/celery --version failed: $version"
  echo "$name: celery $version ($("$dir/bin/python" -c 'import platform; print("Python", platform.python_version())'), $ROOT/$dir)"
}

mkdir -p .venv

# --- celery-5.7 ---------------------------------------------------------------
if ((PY_MAJOR < 3 || (PY_MAJOR == 3 && PY_MINOR < 11))); then
  die "celery-5.7 needs Python >= 3.11 (SQLAlchemy 2.1); '$PYTHON' is $PY_MAJOR.$PY_MINOR"
fi
setup_env celery-5.7 "$APP_DIR/requirements.txt" "$PYTHON"

# --- celery-5.2 ---------------------------------------------------------------
py52=${PYTHON_CELERY52:-}
if [[ -z $py52 ]]; then
  if ((PY_MAJOR == 3 && PY_MINOR < 12)); then
    py52=$PYTHON
  else
    for candidate in python3.11 python3.10; do
      if command -v "$candidate" >/dev/null 2>&1 && [[ -n "$(py_version "$candidate")" ]]; then
        py52=$candidate
        break
      fi
    done
  fi
fi
if [[ -z $py52 ]]; then
  msg="celery-5.2: SKIPPED: kombu 5.2.4 does not import on Python $PY_MAJOR.$PY_MINOR (needs 3.10 or 3.11); set PYTHON_CELERY52=/path/to/python3.11"
  if [[ ${REQUIRE_CELERY52:-0} == 1 ]]; then
    die "$msg"
  fi
  echo "$msg" >&2
  exit 0
fi
read -r M52 N52 <<<"$(py_version "$py52")" || true
[[ -n "${M52:-}" ]] || die "interpreter '$py52' for celery-5.2 does not run"
if ((M52 != 3 || N52 < 10 || N52 > 11)); then
  die "celery-5.2 needs Python 3.10 or 3.11 (kombu 5.2.4); '$py52' is $M52.$N52"
fi
setup_env celery-5.2 "$APP_DIR/requirements-celery52.txt" "$py52"
