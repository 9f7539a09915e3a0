"""slixmpp against the example server's IM and presence service (RFC 6121):
subscription handshakes, presence both ways, offline messages, forking with
a sticky resource, and persistence across a restart."""
import asyncio

import pytest

from xmpp_client import Client, wait_until

ALICE = ("alice@localhost", "wonderland")
BOB = ("bob@localhost", "builder")
CAROL = ("carol@localhost", "c4r0l")


async def login(who, resource, server):
    bare, password = who
    return await Client(f"{bare}/{resource}", password, server).online()


@pytest.mark.parametrize("fixture", ["xmpp_server", "xmpp_server_manual_authz"])
def test_roster_add_with_subscription_handshake_and_presence_both_ways(fixture, request):
    server = request.getfixturevalue(fixture)

    async def scenario():
        alice = await login(ALICE, "laptop", server)
        bob = await login(BOB, "phone", server)
        await alice.update_roster("bob@localhost", name="Bob", groups=["Friends"])
        await wait_until(lambda: alice.subscription("bob@localhost") == "none", what="roster push")
        assert alice.client_roster["bob@localhost"]["name"] == "Bob"
        assert alice.client_roster["bob@localhost"]["groups"] == ["Friends"]

        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        # With auto-authorization the server grants it; without, bob's
        # client (slixmpp auto-authorizes) approves and the server's
        # reciprocal add makes it mutual.
        await wait_until(lambda: alice.subscription("bob@localhost") in ("to", "both"), what="alice 'to'")
        await wait_until(lambda: bob.subscription("alice@localhost") in ("from", "both"), what="bob 'from'")
        if bob.subscription("alice@localhost") == "from":
            bob.send_presence(pto="alice@localhost", ptype="subscribe")
        await wait_until(lambda: alice.subscription("bob@localhost") == "both", what="alice 'both'")
        await wait_until(lambda: bob.subscription("alice@localhost") == "both", what="bob 'both'")

        await wait_until(lambda: alice.saw_available("bob@localhost/phone"), what="bob's presence at alice")
        await wait_until(lambda: bob.saw_available("alice@localhost/laptop"), what="alice's presence at bob")

        # A status change reaches the other side; logging out is seen too.
        bob.send_presence(pstatus="busy", pshow="dnd")
        await wait_until(
            lambda: sum(1 for f, _ in alice.presence_log if f == "bob@localhost/phone") >= 2,
            what="bob's second presence",
        )
        await bob.offline()
        await wait_until(lambda: ("bob@localhost/phone", "unavailable") in alice.presence_log, what="unavailable")
        await alice.offline()

    asyncio.run(scenario())


def test_message_to_offline_user_is_delivered_at_next_login(xmpp_server):
    async def scenario():
        alice = await login(ALICE, "laptop", xmpp_server)
        alice.send_message(mto="bob@localhost", mbody="while you were out", mtype="chat")
        await asyncio.sleep(0.3)
        bob = await login(BOB, "phone", xmpp_server)
        msg = await bob.next_message()
        assert msg["body"] == "while you were out"
        assert str(msg["from"]) == "alice@localhost/laptop"
        delay = msg.xml.find("{urn:xmpp:delay}delay")
        assert delay is not None, "offline message carries an XEP-0203 delay"
        assert delay.get("stamp", "").endswith("Z")
        assert delay.get("from") == "localhost"
        # Delivered once: a second session gets nothing.
        bob2 = await login(BOB, "tablet", xmpp_server)
        assert await bob2.no_message(0.8)
        await alice.offline()
        await bob.offline()
        await bob2.offline()

    asyncio.run(scenario())


def test_forking_to_two_resources_then_sticking_to_the_replier(xmpp_server):
    async def scenario():
        alice = await login(ALICE, "laptop", xmpp_server)
        phone = await login(BOB, "phone", xmpp_server)
        desk = await login(BOB, "desk", xmpp_server)

        alice.send_message(mto="bob@localhost", mbody="first", mtype="chat")
        assert (await phone.next_message())["body"] == "first"
        assert (await desk.next_message())["body"] == "first"

        desk.send_message(mto="alice@localhost/laptop", mbody="desk here", mtype="chat")
        assert (await alice.next_message())["body"] == "desk here"
        alice.send_message(mto="bob@localhost", mbody="second", mtype="chat")
        assert (await desk.next_message())["body"] == "second"
        assert await phone.no_message(0.8), "the sticky resource alone gets it"

        phone.send_message(mto="alice@localhost", mbody="phone now", mtype="chat")
        assert (await alice.next_message())["body"] == "phone now"
        alice.send_message(mto="bob@localhost", mbody="third", mtype="chat")
        assert (await phone.next_message())["body"] == "third"
        assert await desk.no_message(0.8), "routing switched to the phone"

        for c in (alice, phone, desk):
            await c.offline()

    asyncio.run(scenario())


def test_restart_keeps_rosters_and_offline_messages(xmpp_server):
    async def before():
        alice = await login(ALICE, "laptop", xmpp_server)
        bob = await login(BOB, "phone", xmpp_server)
        await alice.update_roster("bob@localhost", name="Bobby", groups=["Team"])
        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        await wait_until(lambda: alice.subscription("bob@localhost") == "to", what="alice 'to'")
        alice.send_message(mto="carol@localhost", mbody="kept across restarts", mtype="chat")
        await asyncio.sleep(0.3)
        await alice.offline()
        await bob.offline()

    async def after():
        alice = await login(ALICE, "laptop", xmpp_server)
        item = alice.client_roster["bob@localhost"]
        assert item["subscription"] == "to"
        assert item["name"] == "Bobby"
        assert item["groups"] == ["Team"]
        bob = await login(BOB, "phone", xmpp_server)
        assert bob.subscription("alice@localhost") == "from"
        # Presence flows after the restart from the stored subscription.
        await wait_until(lambda: alice.saw_available("bob@localhost/phone"), what="bob's presence")
        carol = await login(CAROL, "desk", xmpp_server)
        msg = await carol.next_message()
        assert msg["body"] == "kept across restarts"
        assert msg.xml.find("{urn:xmpp:delay}delay") is not None
        for c in (alice, bob, carol):
            await c.offline()

    asyncio.run(before())
    xmpp_server.restart()
    asyncio.run(after())


def test_sessions_per_user_are_limited(tmp_path):
    from conftest import XmppServer

    server = XmppServer(tmp_path, ["--max-sessions", "1"])
    try:

        async def scenario():
            first = await login(ALICE, "one", server)
            second = Client("alice@localhost/two", ALICE[1], server)
            with pytest.raises(AssertionError):
                await second.online(timeout=5)
            second.disconnect()
            # Other users and the first session are unaffected.
            bob = await login(BOB, "phone", server)
            bob.send_message(mto="alice@localhost/one", mbody="still here", mtype="chat")
            assert (await first.next_message())["body"] == "still here"
            await first.offline()
            await bob.offline()

        asyncio.run(scenario())
    finally:
        server.stop()
