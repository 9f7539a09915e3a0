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

# Debian packages for the SIP interop tests (interop/test_sip_*.py): sipsak,
# a third-party SIP client. Installed only when missing, so reruns are quick.
need_pkgs=()
command -v sipsak >/dev/null 2>&1 || need_pkgs+=(sipsak)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
sipsak --version 2>&1 | head -n 1
