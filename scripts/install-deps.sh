#!/usr/bin/env bash
# Everything the tests need on a bare Debian 12: TeX Live + latexmk + poppler and Node.js + npm
# (Debian packages: needs root or sudo), KaTeX (npm, from the lock file), and the package with its
# test extra (pip, into the active Python). Safe to run again: each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: installing Debian packages needs root (run as root, or install sudo)" >&2
    exit 2
  fi
fi
DEBIAN_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-xetex \
texlive-lang-chinese texlive-fonts-recommended texlive-pictures latexmk poppler-utils"
missing=""
for pkg in $DEBIAN_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
# Node.js and npm: Debian's packages, unless the machine already has both (a NodeSource node
# bundles its own npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "installing Debian packages (root):$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "installing KaTeX (npm ci)"
npm ci --no-audit --no-fund --silent

echo "installing the package and its test extra (pip)"
python -m pip install -q --disable-pip-version-check ".[test]"

# PyTorch for the check-code tests (the optional extra .[torch]); CI runs them, never skips them.
echo "installing PyTorch (CPU) for check-code's tests (pip)"
python -m pip install -q "torch==2.13.0"
