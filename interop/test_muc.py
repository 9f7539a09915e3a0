"""XEP-0045 against the example server's MUC service with slixmpp's
xep_0045 and three clients: create, configure members-only, invite, join,
talk, change subject, kick, ban and destroy."""
import asyncio

import pytest
from slixmpp.exceptions import IqError, PresenceError

from xmpp_client import Client

ROOM = "council@conference.localhost"


async def muc_client(jid, password, server):
    c = Client(jid, password, server)
    c.register_plugin("xep_0030")
    c.register_plugin("xep_0004")
    c.register_plugin("xep_0045")
    c.muc_events: asyncio.Queue = asyncio.Queue()
    for ev in ("groupchat_message", "groupchat_subject", "groupchat_invite", "groupchat_presence"):
        c.add_event_handler(ev, lambda stanza, ev=ev, c=c: c.muc_events.put_nowait((ev, stanza)))
    return await c.online()


async def wait_for(c, kind, pred=lambda s: True, timeout=10):
    async def loop():
        while True:
            ev, stanza = await c.muc_events.get()
            if ev == kind and pred(stanza):
                return stanza
    return await asyncio.wait_for(loop(), timeout)


def test_three_client_room_lifecycle(xmpp_server):
    async def scenario():
        alice = await muc_client("alice@localhost/a", "wonderland", xmpp_server)
        bob = await muc_client("bob@localhost/b", "builder", xmpp_server)
        carol = await muc_client("carol@localhost/c", "c4r0l", xmpp_server)
        am, bm, cm = (x.plugin["xep_0045"] for x in (alice, bob, carol))

        # The service is listed by the server and answers disco#info.
        items = await alice.plugin["xep_0030"].get_items(jid="localhost", timeout=5)
        assert "conference.localhost" in [i[0] for i in items["disco_items"]["items"]]

        # Create: the first occupant is the owner of a locked room (201).
        pres, _subject, _occ, _hist = await am.join_muc_wait(ROOM, "Alice", timeout=10)
        assert pres["muc"]["affiliation"] == "owner"
        assert 201 in pres["muc"]["status_codes"]

        # Configure it members-only (submitting the form unlocks it).
        form = alice.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/muc#roomconfig")
        form.add_field(var="muc#roomconfig_membersonly", ftype="boolean", value=True)
        form.add_field(var="muc#roomconfig_roomname", value="Council")
        await am.set_room_config(ROOM, form, timeout=5)

        # Carol is not a member: registration-required.
        with pytest.raises(PresenceError) as err:
            await cm.join_muc_wait(ROOM, "Carol", timeout=10)
        assert err.value.condition == "registration-required"

        # Invite Bob; the invitation makes him a member and he joins.
        am.invite(ROOM, "bob@localhost", reason="join the council")
        inv = await wait_for(bob, "groupchat_invite")
        assert str(inv["from"]) == ROOM
        pres, _s, _o, _h = await bm.join_muc_wait(ROOM, "Bob", timeout=10)
        assert pres["muc"]["affiliation"] == "member"

        # Talk.
        alice.send_message(mto=ROOM, mbody="welcome, Bob", mtype="groupchat")
        msg = await wait_for(bob, "groupchat_message", lambda m: m["body"] == "welcome, Bob")
        assert msg["from"].resource == "Alice"

        # Change the subject.
        am.set_subject(ROOM, "Agenda: everything")
        subj = await wait_for(bob, "groupchat_subject", lambda m: m["subject"] == "Agenda: everything")
        assert subj["from"].resource == "Alice"

        # Kick Bob (307), then ban him (301): he cannot come back.
        await am.set_role(ROOM, "Bob", "none", reason="order", timeout=5)
        kicked = await wait_for(
            bob, "groupchat_presence",
            lambda p: p["type"] == "unavailable" and 307 in p["muc"]["status_codes"])
        assert kicked is not None
        await am.set_affiliation(ROOM, "outcast", jid="bob@localhost", reason="banned", timeout=5)
        with pytest.raises(PresenceError) as err:
            await bm.join_muc_wait(ROOM, "Bob", timeout=10)
        assert err.value.condition == "forbidden"

        # Only the owner may destroy; Carol cannot, Alice can.
        with pytest.raises(IqError):
            await cm.destroy(ROOM, reason="nope", timeout=5)
        await am.destroy(ROOM, reason="done", timeout=5)
        gone = await wait_for(alice, "groupchat_presence", lambda p: p["type"] == "unavailable")
        assert gone["muc"]["destroy"] is not None or gone["type"] == "unavailable"

        for c in (alice, bob, carol):
            await c.offline()

    asyncio.run(scenario())


def test_persistent_room_survives_a_restart(xmpp_server):
    room = "archive@conference.localhost"

    async def create():
        alice = await muc_client("alice@localhost/a", "wonderland", xmpp_server)
        am = alice.plugin["xep_0045"]
        await am.join_muc_wait(room, "Alice", timeout=10)
        form = alice.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/muc#roomconfig")
        form.add_field(var="muc#roomconfig_persistentroom", ftype="boolean", value=True)
        form.add_field(var="muc#roomconfig_publicroom", ftype="boolean", value=True)
        form.add_field(var="muc#roomconfig_roomname", value="Archive")
        await am.set_room_config(room, form, timeout=5)
        alice.send_message(mto=room, mbody="remember me", mtype="groupchat")
        await asyncio.sleep(0.3)
        await alice.offline()

    async def check():
        bob = await muc_client("bob@localhost/b", "builder", xmpp_server)
        info = await bob.plugin["xep_0030"].get_info(jid=room, timeout=5)
        features = info["disco_info"]["features"]
        assert "muc_persistent" in features, features
        _pres, _subj, _occ, history = await bob.plugin["xep_0045"].join_muc_wait(
            room, "Bob", maxstanzas=5, timeout=10)
        assert [m["body"] for m in history] == ["remember me"]
        await bob.offline()

    asyncio.run(create())
    xmpp_server.restart()
    asyncio.run(check())
