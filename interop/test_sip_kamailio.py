"""Interop: our Publisher and Subscriber engines (sip-simple's
`simple_client` example) against Kamailio 5.6 with its presence and
presence_xml modules in no-database mode (Debian packages `kamailio`,
`kamailio-presence-modules`). Kamailio is the event state compositor and
notifier; our engines publish, subscribe, receive the NOTIFY with the
published PIDF, modify, refresh, remove and un-subscribe.

A missing kamailio or client binary is a failure, never a skip.
"""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("IMP_BIN_DIR", ROOT / "target" / "release"))
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
fork=no
children=1
listen=udp:127.0.0.1:{port}
alias="localhost"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "presence.so"
loadmodule "presence_xml.so"
modparam("presence", "subs_db_mode", 0)
modparam("presence", "publ_cache", 2)
modparam("presence", "server_address", "sip:127.0.0.1:{port}")
modparam("presence_xml", "force_active", 1)
modparam("presence_xml", "integrated_xcap_server", 0)
request_route {{
  if (is_method("PUBLISH")) {{ handle_publish(); exit; }}
  if (is_method("SUBSCRIBE")) {{ handle_subscribe(); exit; }}
  sl_send_reply("405", "Method Not Allowed");
}}
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_binary() -> Path:
    for p in (BIN_DIR / "examples" / "simple_client", ROOT / "target" / "release" / "examples" / "simple_client"):
        if p.exists():
            return p
    raise FileNotFoundError(
        "simple_client is missing: run `cargo build --release -p sip-simple --example simple_client`")


def test_our_publisher_and_subscriber_against_kamailio(tmp_path):
    kamailio = shutil.which("kamailio")
    if kamailio is None:
        raise FileNotFoundError("kamailio is missing: run scripts/install-test-deps.sh")
    client = client_binary()
    port = free_udp_port()
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(CONFIG.format(port=port))
    log = open(tmp_path / "kamailio.log", "wb")
    proc = subprocess.Popen(
        [kamailio, "-f", str(cfg), "-L", MODULES, "-E", "-DD", "-Y", str(tmp_path),
         "-P", str(tmp_path / "k.pid"), "-w", str(tmp_path)],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        # Wait until Kamailio answers on its UDP port.
        deadline = time.monotonic() + 10
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.3)
            probe.bind(("127.0.0.1", 0))
            pport = probe.getsockname()[1]
            while True:
                if proc.poll() is not None:
                    raise RuntimeError((tmp_path / "kamailio.log").read_text())
                msg = ("OPTIONS sip:localhost SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP 127.0.0.1:{pport};branch=z9hG4bKprobe\r\n"
                       "From: <sip:p@localhost>;tag=1\r\nTo: <sip:localhost>\r\nCall-ID: probe\r\n"
                       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
                probe.sendto(msg.encode(), ("127.0.0.1", port))
                try:
                    probe.recvfrom(4096)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("kamailio did not answer")
        r = subprocess.run([str(client), f"127.0.0.1:{port}", "localhost", "carol", "dave"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        for step in ["published etag=", "subscribed for", "NOTIFY carried the published tuple",
                     "modify reached the watcher", "refreshed etag=", "stale entity tag refused",
                     "removed and unsubscribed"]:
            assert step in r.stdout, r.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        log.close()
