"""XEP-0198 against the example server with slixmpp's xep_0198: the TCP
connection is killed mid-conversation, the client resumes, and every
message sent in between arrives exactly once."""
import asyncio

from xmpp_client import Client


def test_resume_after_killed_connection_delivers_each_message_once(xmpp_server):
    async def scenario():
        alice = Client("alice@localhost/mobile", "wonderland", xmpp_server)
        alice.register_plugin("xep_0198")
        enabled = asyncio.Event()
        resumed = asyncio.Event()
        disconnected = asyncio.Event()
        alice.add_event_handler("sm_enabled", lambda *_: enabled.set())
        alice.add_event_handler("session_resumed", lambda *_: resumed.set())
        alice.add_event_handler("disconnected", lambda *_: disconnected.set())
        await alice.online()
        await asyncio.wait_for(enabled.wait(), 10)

        bob = await Client("bob@localhost/desk", "builder", xmpp_server).online()
        for i in range(3):
            bob.send_message(mto="alice@localhost/mobile", mbody=f"before {i}", mtype="chat")
        got = [(await alice.next_message())["body"] for _ in range(3)]
        assert got == [f"before {i}" for i in range(3)]

        # Kill the TCP connection without closing the stream.
        alice.transport.abort()
        await asyncio.wait_for(disconnected.wait(), 10)
        await asyncio.sleep(0.3)
        for i in range(5):
            bob.send_message(mto="alice@localhost/mobile", mbody=f"during {i}", mtype="chat")
        await asyncio.sleep(0.3)

        alice.connect("127.0.0.1", xmpp_server.port)
        await asyncio.wait_for(resumed.wait(), 15)
        got = []
        try:
            while True:
                got.append((await alice.next_message(timeout=2))["body"])
        except asyncio.TimeoutError:
            pass
        during = [b for b in got if b.startswith("during")]
        assert sorted(during) == [f"during {i}" for i in range(5)], got
        assert len(during) == len(set(during)), f"duplicates: {got}"
        assert not [b for b in got if b.startswith("before")], f"re-delivered: {got}"
        await alice.offline()
        await bob.offline()

    asyncio.run(scenario())
