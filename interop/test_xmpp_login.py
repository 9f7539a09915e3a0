"""slixmpp against the example XMPP server: log in over STARTTLS with each
SCRAM variant, bind, and exchange messages."""
import asyncio

import pytest

from xmpp_client import Client


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_two_clients_exchange_a_message(xmpp_server, mech):
    async def scenario():
        alice = await Client("alice@localhost/laptop", "wonderland", xmpp_server, mech).online()
        bob = await Client("bob@localhost/phone", "builder", xmpp_server, mech).online()
        assert alice.mech_used == mech
        assert alice.tls_version is not None, "STARTTLS was negotiated"
        assert str(alice.boundjid) == "alice@localhost/laptop"

        alice.send_message(mto="bob@localhost/phone", mbody="hello bob", mtype="chat")
        msg = await bob.next_message()
        assert msg["body"] == "hello bob"
        assert str(msg["from"]) == "alice@localhost/laptop"

        # A message to the bare JID reaches the user's resource too.
        bob.send_message(mto="alice@localhost", mbody="hi alice", mtype="chat")
        msg = await alice.next_message()
        assert msg["body"] == "hi alice"
        assert str(msg["from"]) == "bob@localhost/phone"

        await alice.offline()
        await bob.offline()

    asyncio.run(scenario())


def test_wrong_password_is_refused(xmpp_server):
    async def scenario():
        c = Client("alice@localhost/x", "not-the-password", xmpp_server, "SCRAM-SHA-256")
        with pytest.raises(AssertionError):
            await c.online(timeout=8)
        c.disconnect()

    asyncio.run(scenario())


def test_server_answers_ping_and_version(xmpp_server):
    async def scenario():
        carol = await Client("carol@localhost/desk", "c4r0l", xmpp_server).online()
        carol.register_plugin("xep_0199")
        carol.register_plugin("xep_0092")
        rtt = await carol.plugin["xep_0199"].ping("localhost", timeout=5)
        assert rtt is not None
        version = await carol.plugin["xep_0092"].get_version("localhost", timeout=5)
        assert version["software_version"]["name"] == "imp xmpp-server"
        await carol.offline()

    asyncio.run(scenario())


def test_direct_tls_login(xmpp_server):
    async def scenario():
        alice = await Client("alice@localhost/tls", "wonderland", xmpp_server, direct_tls=True).online()
        assert alice.tls_version is not None
        bob = await Client("bob@localhost/plain", "builder", xmpp_server).online()
        bob.send_message(mto="alice@localhost/tls", mbody="over direct TLS", mtype="chat")
        assert (await alice.next_message())["body"] == "over direct TLS"
        await alice.offline()
        await bob.offline()

    asyncio.run(scenario())
