"""Interop: the example SIP presence server against sipsak (Debian package),
a third-party SIP client sending PUBLISH, SUBSCRIBE and MESSAGE.

The watcher that receives NOTIFYs is a minimal UDP user agent written here
(sipsak sends one request and exits, so it cannot stay subscribed). A
missing sipsak or server binary is a failure, never a skip.
"""
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(os.environ.get("IMP_BIN_DIR", ROOT / "target" / "release"))
DOMAIN = "localhost"


def free_udp_tcp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue


def sipsak() -> str:
    path = shutil.which("sipsak")
    if path is None:
        raise FileNotFoundError("sipsak is missing: run scripts/install-test-deps.sh")
    return path


@pytest.fixture
def server(tmp_path):
    binary = BIN_DIR / "sip-presence-server"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: run `cargo build --release -p examples`")
    port = free_udp_tcp_port()
    log = open(tmp_path / "sip-server.log", "wb")
    proc = subprocess.Popen(
        [str(binary), "--listen", f"127.0.0.1:{port}", "--domain", DOMAIN,
         "--user", "alice", "--user", "bob"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            raise RuntimeError("sip-presence-server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("sip-presence-server did not start")
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=5)
    log.close()


def parse(data: bytes):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return lines[0], headers, body


class Watcher:
    """A UDP user agent that subscribes and answers NOTIFYs."""

    def __init__(self, server_port: int, user: str):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.server = ("127.0.0.1", server_port)
        self.user = user

    def send(self, text: str):
        self.sock.sendto(text.encode(), self.server)

    def recv(self):
        data, _ = self.sock.recvfrom(65535)
        return parse(data)

    def subscribe(self, target: str, expires: int = 600):
        self.send(
            f"SUBSCRIBE sip:{target}@{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
            f"From: <sip:{self.user}@{DOMAIN}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:{target}@{DOMAIN}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\n"
            "CSeq: 1 SUBSCRIBE\r\nMax-Forwards: 70\r\nEvent: presence\r\n"
            f"Expires: {expires}\r\nAccept: application/pidf+xml\r\n"
            f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>\r\n"
            "Content-Length: 0\r\n\r\n")

    def answer(self, start: str, headers: dict):
        self.send(
            "SIP/2.0 200 OK\r\n"
            f"Via: {headers['via']}\r\nFrom: {headers['from']}\r\nTo: {headers['to']}\r\n"
            f"Call-ID: {headers['call-id']}\r\nCSeq: {headers['cseq']}\r\n"
            "Content-Length: 0\r\n\r\n")

    def next_request(self, method: str):
        """The next request of `method`, answering it (and any NOTIFY) with 200."""
        while True:
            start, headers, body = self.recv()
            if start.startswith("SIP/2.0"):
                continue
            self.answer(start, headers)
            if start.startswith(method + " "):
                return start, headers, body


def pidf(entity: str, tuple_id: str, basic: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="{entity}">'
            f'<tuple id="{tuple_id}"><status><basic>{basic}</basic></status>'
            '<contact>sip:bob@phone.example</contact></tuple></presence>\n')


def shoot(tmp_path: Path, port: int, target: str, request: str):
    """Sends a whole request with sipsak; returns (exit code, output)."""
    f = tmp_path / f"req-{uuid.uuid4().hex}.sip"
    f.write_bytes(request.encode())
    r = subprocess.run(
        [sipsak(), "-vv", "-f", str(f), "-s", f"sip:{target}@127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def request(method: str, user: str, target: str, extra: str, body: str = "",
            ctype: str = "") -> str:
    ct = f"Content-Type: {ctype}\r\n" if body else ""
    return (f"{method} sip:{target}@{DOMAIN} SIP/2.0\r\n"
            f"From: <sip:{user}@{DOMAIN}>;tag={uuid.uuid4().hex[:8]}\r\n"
            f"To: <sip:{target}@{DOMAIN}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}@127.0.0.1\r\n"
            f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}{ct}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}")


def test_sipsak_publish_reaches_subscribed_watcher(server, tmp_path):
    watcher = Watcher(server, "alice")
    watcher.subscribe("bob")
    start, headers, _ = watcher.recv()
    assert start == "SIP/2.0 200 OK", start
    _, h, body = watcher.next_request("NOTIFY")
    assert h["subscription-state"].startswith("active")
    assert b"closed" in body  # nothing published yet

    # Two publications from sipsak (two devices), composed by the server.
    for tuple_id, basic in [("sipsak-phone", "open"), ("sipsak-pc", "closed")]:
        doc = pidf(f"pres:bob@{DOMAIN}", tuple_id, basic)
        rc, out = shoot(tmp_path, server, "bob", request(
            "PUBLISH", "bob", "bob", "Event: presence\r\nExpires: 600\r\n", doc,
            "application/pidf+xml"))
        assert rc == 0, out
        assert "200 OK" in out and "SIP-ETag:" in out, out
        _, h, body = watcher.next_request("NOTIFY")
        assert h["content-type"] == "application/pidf+xml"
        assert tuple_id.encode() in body
    assert b"sipsak-phone" in body and b"sipsak-pc" in body, body
    assert re.search(rb"<basic>open</basic>", body)


def test_sipsak_publish_error_paths(server, tmp_path):
    doc = pidf(f"pres:bob@{DOMAIN}", "t", "open")
    rc, out = shoot(tmp_path, server, "bob", request(
        "PUBLISH", "bob", "bob", "Event: presence\r\nExpires: 600\r\nSIP-If-Match: nosuchtag\r\n",
        doc, "application/pidf+xml"))
    assert "412" in out, out
    rc, out = shoot(tmp_path, server, "bob", request(
        "PUBLISH", "bob", "bob", "Event: dialog\r\nExpires: 600\r\n", doc, "application/pidf+xml"))
    assert "489" in out and "Allow-Events" in out, out
    rc, out = shoot(tmp_path, server, "bob", request(
        "PUBLISH", "bob", "bob", "Event: presence\r\nExpires: 5\r\n", doc, "application/pidf+xml"))
    assert "423" in out and "Min-Expires: 60" in out, out
    assert rc != 0


def test_sipsak_subscribe_and_message(server, tmp_path):
    # sipsak subscribes to alice: 200 with Expires and a To tag.
    rc, out = shoot(tmp_path, server, "alice", request(
        "SUBSCRIBE", "bob", "alice", "Event: presence\r\nExpires: 300\r\n"))
    assert rc == 0, out
    assert "200 OK" in out and "Expires: 300" in out, out
    rc, out = shoot(tmp_path, server, "alice", request(
        "SUBSCRIBE", "bob", "alice", "Event: message-summary\r\nExpires: 300\r\n"))
    assert "489" in out, out

    # A MESSAGE from sipsak reaches alice's client where it subscribed from.
    watcher = Watcher(server, "alice")
    watcher.subscribe("bob")
    assert watcher.recv()[0] == "SIP/2.0 200 OK"
    watcher.next_request("NOTIFY")
    rc, out = shoot(tmp_path, server, "alice", request(
        "MESSAGE", "bob", "alice", "", "hello from sipsak", "text/plain"))
    assert rc == 0, out
    _, h, body = watcher.next_request("MESSAGE")
    assert body == b"hello from sipsak"
    assert "bob@" in h["from"]
    # Unknown user.
    rc, out = shoot(tmp_path, server, "nobody", request(
        "MESSAGE", "bob", "nobody", "", "x", "text/plain"))
    assert "404" in out and rc != 0, out


def test_sipsak_over_tcp(server, tmp_path):
    doc = pidf(f"pres:alice@{DOMAIN}", "tcp-tuple", "open")
    f = tmp_path / "tcp.sip"
    f.write_bytes(request("PUBLISH", "alice", "alice", "Event: presence\r\nExpires: 600\r\n",
                          doc, "application/pidf+xml").encode())
    r = subprocess.run(
        [sipsak(), "-vv", "--transport", "tcp", "-f", str(f),
         "-s", f"sip:alice@127.0.0.1:{server}"],
        capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "200 OK" in r.stdout
