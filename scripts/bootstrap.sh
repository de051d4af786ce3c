#!/usr/bin/env bash
# Idempotent set-up of everything pensioncert needs on a fresh Debian machine:
# system packages (apt-get), the local PostgreSQL/Redis servers when tests need
# them, and a virtual environment in .venv with the pinned Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# opencv-doc carries real face photos (tutorial images) used by the face-engine eval.
APT_PACKAGES=(chromium espeak-ng sox fonts-noto-cjk opencv-doc)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "[bootstrap] installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

stamp=.venv/.requirements.sha
want=$(cat requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] creating .venv and installing Python packages"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip wheel
  .venv/bin/pip install -q -r requirements/runtime.txt -r requirements/dev.txt
  # These wheels declare GUI OpenCV / jax / tight numpy pins we replace with runtime.txt.
  .venv/bin/pip install -q --no-deps -r requirements/nodeps.txt
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
