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
# a third-party SIP client, and Kamailio 5.6 with its presence modules.
# Installed only when missing, so reruns are quick.
need_pkgs=()
command -v sipsak >/dev/null 2>&1 || need_pkgs+=(sipsak)
command -v kamailio >/dev/null 2>&1 || need_pkgs+=(kamailio)
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/presence_xml.so ] || need_pkgs+=(kamailio-presence-modules)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
sipsak --version 2>&1 | head -n 1
kamailio -v 2>&1 | head -n 1
# The interop tests use the release builds of the example server and of
# sip-simple's simple_client example.
cargo build --release --quiet -p examples --bin sip-presence-server
cargo build --release --quiet -p sip-simple --example simple_client
