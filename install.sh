#!/usr/bin/env bash
# stigscap set-up on a fresh Debian machine (run as root, from anywhere):
#   bash install.sh example   install what the tool needs, then run it on the built-in example data
#   bash install.sh test      install that plus the test tools, then run the whole test suite
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
mode="${1:-example}"
case "$mode" in example|test) ;; *) echo "usage: bash install.sh example|test" >&2; exit 1 ;; esac

# System packages: Python, and the official SCAP XSDs (openscap-common). The tests add the
# independent judges: oscap, xmlsec1, xsltproc/xmllint, SSG data streams, Chromium, Node.js.
apt_pkgs=(python3 python3-venv python3-pip openscap-common)
if [ "$mode" = test ]; then
  apt_pkgs+=(openscap-scanner xmlsec1 xsltproc libxml2-utils ssg-base ssg-debderived ssg-debian
             ssg-nondebian ssg-applications chromium)
  command -v npm >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages, in a project virtual environment.
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi

if [ "$mode" = example ]; then
  # exit 2 means "findings reported": the example export holds non-compliant connectors
  rc=0; .venv/bin/stigscap run --example -o out || rc=$?
  [ "$rc" -eq 2 ] && { echo "findings reported (exit 2), as the example data intends"; rc=0; }
  exit "$rc"
fi

# Node tools used as independent checklist parsers (pinned in tests/interop/package-lock.json).
if [ -f tests/interop/package-lock.json ]; then
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
fi
# Lint and type checks first (seconds), then the tests. Settings: pyproject.toml.
.venv/bin/ruff check --no-cache --quiet . || { echo "ruff: the findings above" >&2; exit 1; }
.venv/bin/mypy || { echo "mypy: the errors above" >&2; exit 1; }
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider
