#!/usr/bin/env bash
# Prepare .venv for QuầyThu from the hash-locked requirements. Sourced by ./quaythu and
# ./run-tests; safe to run again (it only reinstalls when a lock file changed).
#   bootstrap app   -> runtime dependencies (requirements/app.lock)
#   bootstrap dev   -> runtime + test/lint tools (requirements/dev.lock)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
KIND="${1:-app}"

say() { printf '%s\n' "$*" >&2; }

# Debian/Ubuntu packages the program needs from the system (Qt's shared libraries; poppler for
# the tests that read PDFs back; binutils for PyInstaller, which the tests use to build the
# bundle). Installed with apt-get when missing: directly as root, through sudo otherwise.
APT_APP=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
         libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
         libxcb-shape0 libxcb-xinerama0 libxcb-randr0)
APT_DEV=(poppler-utils binutils postgresql)  # postgresql: central's tests run on a throwaway PostgreSQL 15 cluster

ensure_apt() {
  command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian-like: the user knows best
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "QuầyThu cần các gói hệ thống: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      say "Hãy cài bằng: apt-get install ${missing[*]}  (cần quyền root)"; exit 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  say "QuầyThu cần Python 3.11 trở lên (python3 --version)."; exit 1
}

ensure_apt "${APT_APP[@]}"
[ "$KIND" = dev ] && ensure_apt "${APT_DEV[@]}"

if [ ! -x "$VENV/bin/python" ]; then
  say "Tạo môi trường ảo .venv …"
  PY="$(find_python)"
  if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian and Ubuntu ship venv's pip bootstrap in a separate package.
    ensure_apt "python3-venv" "python$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
  fi
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

LOCK="$ROOT/requirements/$KIND.lock"
STAMP="$VENV/.installed-$KIND"
WANT="$(sha256sum "$LOCK" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  say "Cài thư viện theo $LOCK …"
  LOG="$VENV/bootstrap.log"
  # Quiet when it works; the whole pip output when it does not.
  if ! { "$VENV/bin/python" -m pip install -q --require-hashes -r "$LOCK" &&
         "$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT"; } >"$LOG" 2>&1; then
    cat "$LOG" >&2
    say "Cài thư viện thất bại (chi tiết ở trên, và trong $LOG)."
    exit 1
  fi
  echo "$WANT" > "$STAMP"
fi
