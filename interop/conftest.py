"""Fixtures for interop tests: start the example servers built by cargo.

The binaries come from $IMP_BIN_DIR (default: target/release). A missing
binary or third-party module is a test failure, never a skip.
"""
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("IMP_BIN_DIR", ROOT / "target" / "release"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}")


class XmppServer:
    """The example server on free ports, with its data directory under
    `tmp` so that `restart()` brings it back with the same state."""

    def __init__(self, tmp: Path, extra_args=()):
        binary = BIN_DIR / "xmpp-server"
        if not binary.exists():
            raise FileNotFoundError(f"{binary} is missing: run `cargo build --release -p examples`")
        self.port = free_port()
        self.direct_port = free_port()
        self.domain = "localhost"
        self.cert = tmp / "cert.pem"
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.args = [
            str(binary),
            "--listen", f"127.0.0.1:{self.port}",
            "--listen-direct-tls", f"127.0.0.1:{self.direct_port}",
            "--domain", self.domain,
            "--user", "alice:wonderland",
            "--user", "bob:builder",
            "--user", "carol:c4r0l",
            "--write-cert", str(self.cert),
            "--data-dir", str(self.data_dir),
            *extra_args,
        ]
        self.start()

    def start(self):
        self.log = open(self.tmp / "server.log", "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc)
        wait_for_port(self.direct_port, self.proc)

    def restart(self):
        """Stops the process and starts a new one on the same ports and
        data directory."""
        self.stop()
        self.start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def xmpp_server(tmp_path):
    server = XmppServer(tmp_path)
    yield server
    server.stop()
    if server.proc.returncode not in (0, -15):
        print((tmp_path / "server.log").read_text(errors="replace"))


@pytest.fixture
def xmpp_server_manual_authz(tmp_path):
    """The server with auto-authorization off: subscription requests go to
    the contact's client."""
    server = XmppServer(tmp_path, ["--no-auto-authorize"])
    yield server
    server.stop()
