"""A small slixmpp client wrapper for the interop tests."""
import asyncio
import ssl
from pathlib import Path

import slixmpp


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, server, mech=None, direct_tls=False):
        super().__init__(jid, password, sasl_mech=mech)
        self.imp_server = server
        # Test exactly one way in: STARTTLS on the c2s port, or direct TLS
        # (XEP-0368) on its own port.
        self.enable_direct_tls = direct_tls
        self.enable_starttls = not direct_tls
        self.port_to_use = server.direct_port if direct_tls else server.port
        self.ca_certs = Path(server.cert)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.started = asyncio.Event()
        self.failed = asyncio.Event()
        self.mech_used = None
        self.tls_version = None
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("failed_auth", lambda *_: self.failed.set())
        self.add_event_handler("connection_failed", lambda *_: self.failed.set())
        self.add_event_handler("auth_success", self._on_auth)
        # Presence seen: (from full JID, type) in arrival order.
        self.presence_log = []
        # slixmpp names available presence events by <show/>.
        for kind in ("available", "unavailable", "away", "chat", "dnd", "xa"):
            self.add_event_handler(f"presence_{kind}", self._on_presence)
        self.register_plugin("xep_0203")

    def _on_auth(self, *_):
        self.mech_used = self.plugin["feature_mechanisms"].mech.name
        ssl_obj = self.transport.get_extra_info("ssl_object") if self.transport else None
        self.tls_version = ssl_obj.version() if ssl_obj else None

    async def _on_start(self, _event):
        # Ask for the roster first, so this session gets roster pushes
        # (RFC 6121 §2.1.6), then announce initial presence.
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def _on_presence(self, pres):
        self.presence_log.append((str(pres["from"]), pres["type"]))

    def saw_available(self, full_jid):
        return any(f == full_jid and t not in ("unavailable", "error") for f, t in self.presence_log)

    def subscription(self, bare_jid):
        if bare_jid not in self.client_roster:
            return None
        return self.client_roster[bare_jid]["subscription"]

    def _on_message(self, msg):
        if msg["type"] in ("chat", "normal", "error"):
            self.inbox.put_nowait(msg)

    async def online(self, timeout=15):
        self.connect("127.0.0.1", self.port_to_use)
        done, _ = await asyncio.wait(
            [asyncio.ensure_future(self.started.wait()), asyncio.ensure_future(self.failed.wait())],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not self.started.is_set():
            raise AssertionError(f"{self.boundjid} did not get a session")
        return self

    async def next_message(self, timeout=10):
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def no_message(self, wait=1.0):
        """True when nothing arrives within `wait` seconds."""
        try:
            await asyncio.wait_for(self.inbox.get(), wait)
        except asyncio.TimeoutError:
            return True
        return False

    async def offline(self):
        self.disconnect()
        await asyncio.sleep(0.2)


async def wait_until(pred, timeout=10.0, what="condition"):
    """Polls `pred` until it is true or fails the test after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
