#!/usr/bin/env bash
# Installs the third-party programs the tests drive: a Python virtual
# environment (.venv) with slixmpp and pytest for the XMPP interop tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r interop/requirements.txt
.venv/bin/python -c 'import slixmpp, pytest; print("slixmpp", slixmpp.__version__)'
