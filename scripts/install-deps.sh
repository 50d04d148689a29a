#!/usr/bin/env bash
# Everything the tests need: TeX Live + latexmk + poppler (Debian), KaTeX (npm, from the lock file),
# and the package with its test extra (pip). Safe to run again: each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
TEX_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-xetex \
texlive-lang-chinese texlive-fonts-recommended texlive-pictures latexmk poppler-utils"
missing=""
for pkg in $TEX_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi

python -m pip install -q --disable-pip-version-check ".[test]"
