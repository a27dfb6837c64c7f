"""Every kind of button the coach emits, pressed through each adapter's own inbound mapping (the
real python-telegram-bot and discord.py clients against the loopback fakes, the real coach on
SQLite): (a) by its rightful owner, (b) by another person, (c) with a tampered ref or value,
(d) for team buttons, from the wrong chat. Each refused press must leave every table exactly as
it was; each rightful press must go through.

The button payloads are what a modified client can send: on Telegram any callback data on any
message it can see, on Discord any custom_id. Only where the press happened and who pressed it
come from the platform.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.bootstrap import build_coach
from bot.config import Settings
from bot.core.actions import Action, parse_action
from bot.core.messages import Platform
from bot.core.reminder_plan import Kind
from bot.core.texts import more_button
from bot.service import reminder_message, team
from bot.service.coach import Coach
from storage.models import Base, Identity, Person, Team, TeamMember
from tests.chat import Chat, FakeClock
from tests.e2e import test_discord as discord_e2e
from tests.e2e import test_telegram as telegram_e2e
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord import Person as DiscordUser
from tests.e2e.fake_telegram import TOKEN, FakeTelegram

REFUSALS = (
    "That button belongs to someone else's conversation.",
    "That button isn't valid any more.",
    "That question has already been answered.",
    "That reminder was for an earlier day, so nothing changed.",
    team.REFUSE_ELSEWHERE,
)
# The value the owner presses at each question (flow:step), as the coach's own buttons carry.
OWNER_VALUES = {
    "ob:rfe": "no",
    "ob:rfc": "no",
    "ob:pain": "3",
    "ob:comfort": "6",
    "ob:zone": "europe.berlin",
    "ob:time": "0700",
    "act:pick": "done",  # no activities of their own
    "ci:pain": "2",
    "ci:leg": "yes",  # "yes" brings the check-in's own safety questions too
    "ci:rf": "no",
    "ci:rfc": "no",
    "ci:flat": "yes",
    "ci:comfort": "none",
    "am:pain": "2",
    "del:confirm": "no",
    "scr:rf": "no",
    "scr:rfc": "no",
}
# A value the coach never offers at that question (where one is checked).
BAD_VALUES = {
    "ob:rfe": "maybe",
    "ob:rfc": "maybe",
    "ob:pain": "11",
    "ob:comfort": "11",
    "act:pick": "made-up",
    "ci:pain": "11",
    "ci:leg": "maybe",
    "ci:rf": "maybe",
    "ci:rfc": "maybe",
    "ci:flat": "sideways",
    "ci:comfort": "12",
    "am:pain": "11",
    "scr:rf": "maybe",
    "scr:rfc": "maybe",
}

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(coach: Coach) -> Snapshot:
    """Every row of every table."""
    found: Snapshot = {}
    async with coach.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table).order_by(*table.primary_key))).all()
            found[table.name] = [tuple(row) for row in rows]
    return found


@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    kinds: set[str] = field(default_factory=set)

    def line(self, platform: str) -> str:
        return (
            f"{platform}: {len(self.kinds)} button kinds, {sum(self.tried.values())} forged "
            f"presses tried, {sum(self.refused.values())} refused with no row changed, "
            f"{sum(self.accepted.values())} rightful presses accepted; by case "
            f"{dict(sorted(self.tried.items()))}"
        )


Press = Callable[[str, str, str], Awaitable[str]]  # (who, place, payload) -> what was answered


@dataclass
class Table:
    """Runs the table on one platform. `press` goes through the adapter; `chat` is the coach
    directly, used only to set the scene (typed commands)."""

    coach: Coach
    clock: FakeClock
    platform: Platform
    users: dict[str, str]  # ann / ben / hal / ada -> user ref
    press: Press
    chat: Callable[[str], Chat]
    team_chat: Callable[[str, str], Chat]  # (who, "a" | "b") -> a chat in that team's place
    tally: Tally = field(default_factory=Tally)

    async def person_id(self, who: str) -> int:
        async with self.coach.sessions() as session:
            found = await session.scalar(
                select(Identity.person_id).where(
                    Identity.platform == self.platform.value, Identity.user_ref == self.users[who]
                )
            )
        assert found is not None
        return int(found)

    async def pending(self, who: str) -> dict[str, Any] | None:
        async with self.coach.sessions() as session:
            found = await session.get(Person, await self.person_id(who))
            assert found is not None
            return found.pending

    async def refused(self, case: str, kind: str, who: str, place: str, payload: str) -> None:
        before = await snapshot(self.coach)
        answered = await self.press(who, place, payload)
        after = await snapshot(self.coach)
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, (case, kind, who, place, payload, changed, answered)
        self.tally.tried[case] += 1
        self.tally.refused[case] += 1
        self.tally.kinds.add(kind)

    async def rightful(self, kind: str, who: str, place: str, payload: str) -> str:
        answered = await self.press(who, place, payload)
        assert answered not in REFUSALS, (kind, who, place, payload, answered)
        self.tally.accepted["owner"] += 1
        self.tally.kinds.add(kind)
        return answered

    async def question(self, who: str, other: str) -> None:
        """The open question of `who`, pressed every wrong way and then rightly."""
        pending = await self.pending(who)
        assert pending is not None
        flow, step, ref = str(pending["flow"]), str(pending["step"]), int(pending["ref"])
        kind = f"{flow}:{step}"
        value = OWNER_VALUES[kind]
        payload = Action(flow, step, value, ref).encode()
        other_ref = await self.person_id(other) if flow in {"ob", "del"} else ref + 1000
        await self.refused("b: another person", kind, other, "dm", payload)
        await self.refused(
            "c: tampered ref", kind, who, "dm", Action(flow, step, value, other_ref).encode()
        )
        if kind in BAD_VALUES:
            bad = Action(flow, step, BAD_VALUES[kind], ref).encode()
            await self.refused("c: tampered value", kind, who, "dm", bad)
        await self.rightful(kind, who, "dm", payload)

    async def answer_all(self, who: str, other: str) -> None:
        while await self.pending(who) is not None:
            await self.question(who, other)

    async def run(self) -> None:
        ann, ben, hal = "ann", "ben", "hal"
        for who in (ann, ben, hal):
            await self.chat(who).say("/help")  # everyone exists before the first press
        await self.chat(ben).onboard()
        admin_a, admin_b = self.team_chat("ada", "a"), self.team_chat("ada", "b")
        admin_a.can_manage = admin_b.can_manage = True
        await admin_a.say(self._setup_command("a"))
        await admin_b.say(self._setup_command("b"))

        # Onboarding, a check-in with its safety questions, the next morning's question.
        await self.chat(ann).say("/start")
        await self.answer_all(ann, ben)
        await self.chat(ann).say("/checkin")
        await self.answer_all(ann, ben)
        self.clock.advance(days=1)
        for who in (ann, ben, hal, "ada"):
            await self.chat(who).say("/help")  # last_seen moves on now, not during a press
        await self.chat(ann).say("/progress")
        await self.answer_all(ann, ben)
        await self.chat(ann).say("/delete")
        await self.answer_all(ann, ben)

        # The red-flag screen asked after words that name a sign.
        await self.chat(ann).say("tingling down my left leg")
        await self.answer_all(ann, ben)

        await self.reminder_buttons(ann, ben)
        await self.personal_buttons(ann, ben)
        await self.clearance(hal, ben)
        await self.team_buttons(ann, ben)
        await self.public_buttons(ann, ben)

    def _setup_command(self, which: str) -> str:
        if self.platform is Platform.DISCORD:
            return f"/team setup {DISCORD_PLACES['team_' + which][0]} 07:30 Europe/Berlin"
        return "/team setup 07:30 Europe/Berlin"

    async def reminder_buttons(self, who: str, other: str) -> None:
        mine, theirs = await self.person_id(who), await self.person_id(other)
        today = self.clock.now.date()
        for label, step in (("Skip today", "skip"), ("Later", "later"), ("Start", "start")):
            [button] = [
                b
                for b in reminder_message.reminder_buttons(mine, Kind.REMINDER, today)
                if b.label == label
            ]
            kind = f"rm:{step}"
            action = parse_action(button.action)
            assert action is not None and action.ref == mine
            await self.refused("b: another person", kind, other, "dm", button.action)
            tampered = Action(action.flow, action.step, action.value, theirs).encode()
            await self.refused("c: tampered ref", kind, who, "dm", tampered)
            bad = {"skip": "d20200101", "later": "99x", "start": None}[step]
            if bad is not None:
                await self.refused(
                    "c: tampered value",
                    kind,
                    who,
                    "dm",
                    Action(action.flow, action.step, bad, mine).encode(),
                )
            await self.rightful(kind, who, "dm", button.action)

    async def personal_buttons(self, who: str, other: str) -> None:
        """Buttons that name their owner: the first routine after onboarding, a bad day's
        choices, and "I've been seen by a clinician"."""
        mine, theirs = await self.person_id(who), await self.person_id(other)
        for flow, step, value, bad in (
            ("rt", "open", "1", "2"),
            ("bd", "light", "1", "9"),
            ("bd", "pause", "3", "90"),
            ("rv", "ok", "yes", "maybe"),
        ):
            kind = f"{flow}:{step}"
            payload = Action(flow, step, value, mine).encode()
            await self.refused("b: another person", kind, other, "dm", payload)
            tampered = Action(flow, step, value, theirs).encode()
            await self.refused("c: tampered ref", kind, who, "dm", tampered)
            forged = Action(flow, step, bad, mine).encode()
            await self.refused("c: tampered value", kind, who, "dm", forged)
            await self.rightful(kind, who, "dm", payload)

    async def clearance(self, who: str, other: str) -> None:
        held_chat = self.chat(who)
        await held_chat.say("/start")
        await held_chat.press("Yes, at least one")  # an emergency sign: on hold
        held = await self.person_id(who)
        payload = Action("clr", "ok", "yes", held).encode()
        await self.refused("b: another person", "clr:ok", other, "dm", payload)
        theirs = Action("clr", "ok", "yes", await self.person_id(other)).encode()
        await self.refused("c: tampered ref", "clr:ok", who, "dm", theirs)
        bad = Action("clr", "ok", "maybe", held).encode()
        await self.refused("c: tampered value", "clr:ok", who, "dm", bad)
        await self.rightful("clr:ok", who, "dm", payload)

    async def team_buttons(self, who: str, other: str) -> None:
        async with self.coach.sessions() as session:
            ids = {
                found.channel_ref: found.id
                for found in (
                    await session.scalars(select(Team).where(Team.platform == self.platform.value))
                ).all()
            }
        team_a, team_b = ids[self.place_ref("team_a")], ids[self.place_ref("team_b")]
        start_a = Action(team.FLOW, team.START, "go", team_a).encode()
        start_b = Action(team.FLOW, team.START, "go", team_b).encode()
        for case, presser, place, payload in (
            ("b: another person", other, "dm", start_a),
            ("c: tampered ref", who, "team_a", start_b),
            ("d: wrong chat", who, "dm", start_a),
            ("d: wrong chat", who, "other_group", start_a),
            ("d: wrong chat", who, "team_b", start_a),
            ("c: tampered value", who, "team_a", Action("tm", "dance", "go", team_a).encode()),
        ):
            await self.refused(case, "tm:start", presser, place, payload)
        await self.rightful("tm:start", who, "team_a", start_a)
        assert await self.members() == {(who, team_a)}

        for value in ("on", "off"):
            kind = f"tm:name:{value}"
            name_a = Action(team.FLOW, team.NAME, value, team_a).encode()
            name_b = Action(team.FLOW, team.NAME, value, team_b).encode()
            for case, presser, place, payload in (
                ("b: another person", other, "dm", name_a),
                ("c: tampered ref", who, "dm", name_b),
                ("d: wrong chat", other, "other_group", name_a),
                ("d: wrong chat", who, "team_a", name_b),
            ):
                await self.refused(case, kind, presser, place, payload)
            await self.rightful(kind, who, "dm", name_a)  # a member's own copy, in the DM

        # "Done" under a routine is anyone's own check-in; tagged with a team, it names the
        # presser only if they are a member (they are not: no membership, no channel line).
        before = await snapshot(self.coach)
        tagged = Action("rt", "done", f"t{team_a}", 0).encode()
        await self.rightful("rt:done", other, "dm", tagged)
        after = await snapshot(self.coach)
        for name in ("team_members", "teams", "outbox"):
            assert before[name] == after[name], name
        assert await self.members() == {(who, team_a)}

    async def public_buttons(self, who: str, other: str) -> None:
        """Buttons that name no one: "More" under an exercise's picture shows its full text to
        whoever presses it, wherever, and writes nothing; a "More" naming no exercise is
        refused."""
        aslr = self.coach.library.exercise("active-straight-leg-raise")
        payload = more_button(aslr).action
        action = parse_action(payload)
        assert action is not None and len(payload.encode()) <= 64
        for presser, place in ((who, "dm"), (other, "team_a"), (other, "other_group")):
            before = await snapshot(self.coach)
            await self.rightful("ex:more", presser, place, payload)
            assert await snapshot(self.coach) == before, (presser, place)
        for forged in (
            Action(action.flow, action.step, "0000000000", 0),
            Action(action.flow, "less", action.value, 0),
            Action(action.flow, action.step, action.value, 7),
        ):
            await self.refused("c: tampered value", "ex:more", who, "dm", forged.encode())

    def place_ref(self, place: str) -> str:
        if self.platform is Platform.DISCORD:
            return str(DISCORD_PLACES[place][0])
        return str(TELEGRAM_PLACES[place])

    async def members(self) -> set[tuple[str, int]]:
        by_ref = {ref: who for who, ref in self.users.items()}
        async with self.coach.sessions() as session:
            rows = await session.execute(
                select(Identity.user_ref, TeamMember.team_id)
                .join(Identity, Identity.person_id == TeamMember.person_id)
                .where(Identity.platform == self.platform.value)
            )
            return {(by_ref[user], team_id) for user, team_id in rows.all()}


# Telegram --------------------------------------------------------------------------------------

TELEGRAM_USERS = {"ann": 101, "ben": 202, "hal": 303, "ada": 404}
TELEGRAM_PLACES = {"team_a": -100555, "team_b": -100666, "other_group": -100999}


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_forged_presses_on_telegram(telegram_fake: FakeTelegram, tmp_path: Path) -> None:
    fake = telegram_fake
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3",
        telegram_token=SecretStr(TOKEN),
        telegram_api_url=fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    clock = FakeClock()
    coach = await build_coach(settings, clock=clock)

    async def press(who: str, place: str, payload: str) -> str:
        user = TELEGRAM_USERS[who]
        chat_id = user if place == "dm" else TELEGRAM_PLACES[place]
        update = fake.callback(user, payload, chat_id=chat_id, first_name=who.capitalize())
        query_id = update["callback_query"]["id"]
        mark = fake.mark()
        fake.inject_update(update)
        answer = await fake.wait_for(
            "answerCallbackQuery", lambda p: p["callback_query_id"] == query_id, since=mark
        )
        if answer.params.get("text"):
            return str(answer.params["text"])
        return "(no alert)"

    def chat(who: str) -> Chat:
        user = str(TELEGRAM_USERS[who])
        return Chat(coach, user=user, chat=user, platform=Platform.TELEGRAM, name=who)

    def team_chat(who: str, which: str) -> Chat:
        group = str(TELEGRAM_PLACES[f"team_{which}"])
        return Chat(
            coach,
            user=str(TELEGRAM_USERS[who]),
            chat=group,
            private=False,
            platform=Platform.TELEGRAM,
            group=group,
            name=who,
        )

    users = {who: str(ref) for who, ref in TELEGRAM_USERS.items()}
    table = Table(coach, clock, Platform.TELEGRAM, users, press, chat, team_chat)
    try:
        async with telegram_e2e.running(fake, settings, coach):
            await table.run()
    finally:
        await coach.close()
    print(table.tally.line("telegram"))
    assert table.tally.refused == table.tally.tried
    assert len(table.tally.kinds) >= 20


# Discord ---------------------------------------------------------------------------------------

DISCORD_USERS = {
    "ann": DiscordUser(111_001, "ann"),
    "ben": DiscordUser(111_002, "ben"),
    "hal": DiscordUser(111_003, "hal"),
    "ada": DiscordUser(111_004, "ada"),
}
# place -> (channel, guild); "other_group" is another channel of another server.
DISCORD_PLACES = {
    "team_a": (515_151, 424_242),
    "team_b": (525_252, 434_343),
    "other_group": (535_353, 999_999),
}


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    with server.patch():
        yield server
    await server.stop()


async def test_forged_presses_on_discord(discord_fake: FakeDiscord, tmp_path: Path) -> None:
    fake = discord_fake
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3", discord_token="x")
    clock = FakeClock()
    coach = await build_coach(settings, clock=clock)
    for channel, guild in DISCORD_PLACES.values():
        fake.add_channel(channel, guild)

    async def press(who: str, place: str, payload: str) -> str:
        user = DISCORD_USERS[who]
        channel, guild = (
            (fake.dm_channel_id(user.id), None) if place == "dm" else DISCORD_PLACES[place]
        )
        message: dict[str, Any] = {
            "id": str(fake.next_id()),
            "channel_id": str(channel),
            "type": 0,
            "content": "a button",
            "author": fake.session_for().bot.user_payload(),
            "timestamp": "2025-01-01T00:00:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 2, "label": "x", "custom_id": payload}],
                }
            ],
        }
        if guild is not None:
            message["guild_id"] = str(guild)
        # Known to the fake, so an answer that edits the pressed message finds it.
        message_id = int(message["id"])
        fake.messages[message_id] = message
        fake.message_guild[message_id] = guild
        fake.message_ephemeral[message_id] = False
        interaction = await fake.press(message_id, payload, user=user)
        answered = await discord_e2e.answer(fake, interaction)
        return str((answered.json or {}).get("content", ""))

    def chat(who: str) -> Chat:
        user = str(DISCORD_USERS[who].id)
        return Chat(coach, user=user, chat=f"dm-{user}", platform=Platform.DISCORD, name=who)

    def team_chat(who: str, which: str) -> Chat:
        channel, guild = DISCORD_PLACES[f"team_{which}"]
        return Chat(
            coach,
            user=str(DISCORD_USERS[who].id),
            chat=str(channel),
            private=False,
            platform=Platform.DISCORD,
            group=str(guild),
            name=who,
        )

    users = {who: str(person.id) for who, person in DISCORD_USERS.items()}
    table = Table(coach, clock, Platform.DISCORD, users, press, chat, team_chat)
    try:
        async with discord_e2e.running(settings, coach, tmp_path):
            await table.run()
    finally:
        await coach.close()
    print(table.tally.line("discord"))
    assert table.tally.refused == table.tally.tried
    assert len(table.tally.kinds) >= 20
