"""The Discord adapter end to end: the real discord.py client against the loopback fake.

No sleeps: every result is awaited at the fake (`wait_for`). A "barrier" (a /help from someone
else, answered) shows that earlier events were processed when a test checks that nothing
happened.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import (
    CoachClient,
    DiscordSender,
    build_client,
    serve_discord,
    sync_commands,
)
from bot.adapters.discord.client import DM_CLOSED_KEEP_NOTICE, DM_CLOSED_NOTICE
from bot.adapters.discord.commands import TEAM_DM_REFUSAL, TEAM_NAME_COMMAND, TEAM_REFUSAL
from bot.adapters.discord.render import escape
from bot.config import Settings
from bot.core.commands import COMMANDS, MAX_PAUSE_DAYS
from bot.core.messages import Button, Incoming, Platform, Reply
from bot.ports import Delivery
from tests.e2e.fake_discord import (
    EPHEMERAL,
    MANAGE_GUILD,
    Call,
    ChannelRef,
    FakeDiscord,
    Interaction,
    Person,
    Posted,
    buttons,
)

GUILD = 424_242
TEAM_CHANNEL = 515_151
ANN = Person(111_001, "ann")
BEN = Person(111_002, "ben")
ADMIN = Person(111_003, "ada", permissions=MANAGE_GUILD)
WATCHER = Person(111_004, "wat")

HEALTH_WORDS = ("pain", "hurt", "flat on every rep", "comfort", "check-in saved", "tingling")


# ------------------------------------------------------------------------------ a small coach


def _score_rows(step: str, ref: int) -> tuple[tuple[Button, ...], ...]:
    """0-10 in a row of 6 and a row of 5, as the real coach lays them out."""
    return (
        tuple(Button(str(n), f"v1:ci:{step}:{n}:{ref}") for n in range(0, 6)),
        tuple(Button(str(n), f"v1:ci:{step}:{n}:{ref}") for n in range(6, 11)),
    )


class FakeCoach:
    """Enough of the coach to drive the adapter: a check-in by buttons whose state lives here
    (as it lives in the database for the real coach), an ownership check on every press."""

    def __init__(self, image: Path | None = None) -> None:
        self.seen: list[Incoming] = []
        self.unreachable: list[tuple[Platform, str]] = []
        self.checkins: dict[int, dict[str, Any]] = {}
        self.image = image
        self.fail_next = False
        self.answer_with: list[Reply] | None = None

    def texts(self) -> list[str | None]:
        return [incoming.text for incoming in self.seen]

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        self.unreachable.append((platform, user_ref))

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError(f"cannot store {incoming.text}")
        if self.answer_with is not None:
            return self.answer_with
        if incoming.action is not None:
            return self._press(incoming)
        text = incoming.text or ""
        command, _, args = text.partition(" ")
        if command == "/checkin" and not args:
            ref = 40 + len(self.checkins)
            self.checkins[ref] = {"owner": incoming.user_ref}
            return [
                Reply(
                    "How much pain during the routine? 0 = none, 10 = worst.",
                    buttons=_score_rows("pain", ref),
                    private=True,
                )
            ]
        if command == "/checkin":
            return [Reply(f"Check-in saved: {args}.", private=True)]
        if command == "/exercise":
            return [Reply("Hinge at the hips, back flat.", title=args, image=self.image)]
        if command == "/help":
            return [Reply("Here is what I can do: /routine, /checkin, /remind.")]
        return [Reply(f"ok {text}")]

    def _press(self, incoming: Incoming) -> list[Reply]:
        parts = (incoming.action or "").split(":")
        refused = [Reply("That button is not for you.", private=True, alert=True)]
        if len(parts) != 5 or parts[0] != "v1" or not parts[4].isdigit():
            return refused
        _, flow, step, value, ref_text = parts
        ref = int(ref_text)
        if flow == "team" and step == "start":
            return [
                Reply(
                    "Today's routine: hip hinge 3x8, hamstring floss 2x10.",
                    private=True,
                    edit=True,
                    buttons=((Button("Done: check in", "v1:ci:start:go:0"),),),
                )
            ]
        checkin = self.checkins.get(ref)
        if flow != "ci" or checkin is None or checkin["owner"] != incoming.user_ref:
            return refused
        checkin[step] = value
        if step == "pain":
            choices = (("yes", "yes"), ("mostly", "mostly"), ("no", "no"))
            return [
                Reply(
                    "Did your lower back stay flat on every rep?",
                    buttons=(
                        tuple(Button(label, f"v1:ci:flat:{v}:{ref}") for label, v in choices),
                    ),
                    private=True,
                    edit=True,
                )
            ]
        if step == "flat":
            return [
                Reply(
                    "Deadlift comfort, 0-10?",
                    buttons=(
                        *_score_rows("comfort", ref),
                        (Button("none", f"v1:ci:comfort:none:{ref}"),),
                    ),
                    private=True,
                    edit=True,
                )
            ]
        return [
            Reply(
                f"Check-in saved: pain {checkin['pain']}, flat {checkin['flat']}, "
                f"comfort {checkin['comfort']}.",
                private=True,
                edit=True,
            )
        ]


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def no_swallowed_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs and swallows exceptions in callbacks: make them fail the test."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage()[:200] for r in errors]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    with server.patch():
        yield server
    await server.stop()


@pytest.fixture
def coach(tmp_path: Path) -> FakeCoach:
    image = tmp_path / "hinge.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    return FakeCoach(image=image)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3", discord_token="x")


@asynccontextmanager
async def running(
    settings: Settings, coach: Any, tmp_path: Path, **options: Any
) -> AsyncIterator[CoachClient]:
    """A connected client; connect(reconnect=False) so any failure surfaces here."""
    options.setdefault("sync_state_path", tmp_path / "discord-commands.json")
    client = build_client(settings, coach, guild_ready_timeout=0, **options)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    async with client:
        await client.login(token)
        task = asyncio.create_task(client.connect(reconnect=False))
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()
            raise AssertionError("the client stopped before it was ready")
        assert ready in done, "the client did not get ready"
        try:
            yield client
        finally:
            await client.close()
            await task  # re-raises anything that killed the gateway loop


@pytest.fixture
async def bot(
    fake: FakeDiscord, settings: Settings, coach: FakeCoach, tmp_path: Path
) -> AsyncIterator[CoachClient]:
    async with running(settings, coach, tmp_path) as client:
        yield client


def _answers(interaction: Interaction) -> Callable[[Call], bool]:
    return lambda call: (
        call.token == interaction.token
        and call.route in ("followup", "followup_edit")
        and call.status == 200
    )


async def answer(
    fake: FakeDiscord,
    interaction: Interaction,
    since: int = 0,
    timeout: float = 5.0,  # noqa: ASYNC109 - the fake's API: one deadline per wait
) -> Call:
    return await fake.wait_for(_answers(interaction), since=since, timeout=timeout)


async def answers(fake: FakeDiscord, interaction: Interaction, count: int) -> list[Call]:
    found: list[Call] = []
    since = 0
    for _ in range(count):
        call = await fake.wait_for(_answers(interaction), since=since)
        found.append(call)
        since = call.index + 1
    return found


async def callback(fake: FakeDiscord, interaction: Interaction) -> Call:
    return await fake.wait_for(
        lambda call: call.token == interaction.token and call.route == "callback"
    )


async def barrier(fake: FakeDiscord) -> None:
    """Everything dispatched before this has been handled once this /help is answered."""
    interaction = await fake.slash("help", user=WATCHER)
    await answer(fake, interaction)


def assert_no_public_health_data(fake: FakeDiscord) -> None:
    for post in fake.public_guild_posts():
        text = post.content.lower()
        assert not any(word in text for word in HEALTH_WORDS), post
        assert not any(cid.startswith("v1:ci:") for cid in post.custom_ids), post


def message_of(call: Call) -> dict[str, Any]:
    assert call.message is not None
    return call.message


# ------------------------------------------------------------------------------ commands


def test_tree_has_the_same_commands_as_the_core() -> None:
    client = build_client(Settings(discord_token="x"), FakeCoach(), command_sync="off")
    names = {command.name for command in client.tree.get_commands()}
    # Plus `/teamname`: the core's "/team name on|off", which is not for managers only.
    assert names == {command.name for command in COMMANDS} | {TEAM_NAME_COMMAND}


async def test_commands_sync_once_and_again_only_when_changed(
    fake: FakeDiscord, settings: Settings, coach: FakeCoach, tmp_path: Path
) -> None:
    async with running(settings, coach, tmp_path):
        sync = await fake.wait_for(lambda call: call.route == "commands_sync")
    payload = {command["name"]: command for command in sync.json}
    assert set(payload) == {command.name for command in COMMANDS} | {TEAM_NAME_COMMAND}
    team = payload["team"]
    assert {option["name"] for option in team["options"]} == {"setup", "off", "show"}
    assert int(team["default_member_permissions"]) == MANAGE_GUILD
    # Whether the team sees your name is everyone's own choice, in a server or a DM.
    team_name = payload[TEAM_NAME_COMMAND]
    assert team_name.get("default_member_permissions") is None
    assert team_name.get("dm_permission", True) is True
    [choice] = team_name["options"]
    assert choice["required"] is True
    assert [c["value"] for c in choice["choices"]] == ["on", "off"]
    # The coach pauses for 1 to MAX_PAUSE_DAYS days: Discord offers no more.
    [days] = payload["pause"]["options"]
    assert (days["min_value"], days["max_value"]) == (1, MAX_PAUSE_DAYS) == (1, 90)
    checkin = {option["name"]: option for option in payload["checkin"]["options"]}
    assert (checkin["pain"]["min_value"], checkin["pain"]["max_value"]) == (0, 10)
    assert [c["value"] for c in checkin["flat"]["choices"]] == ["yes", "mostly", "no"]
    remind = {option["name"]: option for option in payload["remind"]["options"]}
    assert remind["zone"]["autocomplete"] is True

    # Same tree, same state file: the second start does not sync.
    since = fake.mark()
    async with running(settings, coach, tmp_path):
        await fake.wait_for(lambda call: call.route == "gateway_identify", since=since)
    assert not fake.find(lambda call: call.route == "commands_sync", since=since)

    # A changed tree (here: the stored hash no longer matches) syncs again.
    state = tmp_path / "discord-commands.json"
    stored = json.loads(state.read_text())
    state.write_text(json.dumps({key: "old" for key in stored}))
    since = fake.mark()
    async with running(settings, coach, tmp_path):
        await fake.wait_for(lambda call: call.route == "commands_sync", since=since)

    # The CLI's explicit sync always pushes.
    since = fake.mark()
    assert await sync_commands(settings, sync_state_path=state) == len(COMMANDS) + 1
    assert fake.find(lambda call: call.route == "commands_sync", since=since)
    assert not fake.find(lambda call: call.route == "gateway_identify", since=since)


SLASH_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("start", {}, "/start"),
    ("routine", {}, "/routine"),
    ("checkin", {}, "/checkin"),
    ("checkin", {"pain": 3, "flat": "yes", "comfort": 7}, "/checkin 3 yes 7"),
    ("checkin", {"pain": 0, "flat": "no"}, "/checkin 0 no none"),
    (
        "checkin",
        {"pain": 2, "flat": "mostly", "comfort": 5, "leg": True},
        "/checkin 2 mostly 5 leg",
    ),
    ("checkin", {"comfort": 5}, "/checkin 5"),
    ("progress", {}, "/progress"),
    ("remind", {"time": "07:30", "zone": "Europe/Berlin"}, "/remind 07:30 Europe/Berlin"),
    ("remind", {"time": "off"}, "/remind off"),
    ("snooze", {}, "/snooze"),
    ("snooze", {"delay": "1h"}, "/snooze 1h"),
    ("pause", {"days": 7}, "/pause 7"),
    ("pause", {}, "/pause"),
    ("resume", {}, "/resume"),
    ("exercise", {"name": "Hip hinge"}, "/exercise Hip hinge"),
    ("privacy", {}, "/privacy"),
    ("export", {}, "/export"),
    ("delete", {}, "/delete"),
    ("help", {}, "/help"),
]


@pytest.mark.parametrize(("name", "options", "text"), SLASH_CASES)
async def test_every_slash_command_in_a_dm(
    fake: FakeDiscord,
    bot: CoachClient,
    coach: FakeCoach,
    name: str,
    options: dict[str, Any],
    text: str,
) -> None:
    interaction = await fake.slash(name, user=ANN, **options)
    first = await callback(fake, interaction)
    assert first.json["type"] == 5  # deferred before the coach is asked
    reply = await answer(fake, interaction)
    assert coach.seen[-1] == Incoming(
        platform=Platform.DISCORD,
        user_ref=str(ANN.id),
        chat_ref=str(fake.dm_channel_id(ANN.id)),
        is_private=True,
        display_name="ann",
        text=text,
    )
    assert coach.seen[-1].text and reply.status == 200


@pytest.mark.parametrize(("name", "options", "text"), SLASH_CASES)
async def test_every_slash_command_in_a_server_is_ephemeral(
    fake: FakeDiscord,
    bot: CoachClient,
    coach: FakeCoach,
    name: str,
    options: dict[str, Any],
    text: str,
) -> None:
    interaction = await fake.slash(name, user=BEN, guild_id=GUILD, channel_id=9_001, **options)
    first = await callback(fake, interaction)
    assert first.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    reply = await answer(fake, interaction)
    assert reply.flags & EPHEMERAL
    incoming = coach.seen[-1]
    assert (incoming.text, incoming.is_private, incoming.group_ref, incoming.chat_ref) == (
        text,
        False,
        str(GUILD),
        "9001",
    )
    assert incoming.can_manage is False
    assert_no_public_health_data(fake)


async def test_team_setup_by_a_manager(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    interaction = await fake.slash(
        "team",
        sub="setup",
        user=ADMIN,
        guild_id=GUILD,
        channel=ChannelRef(TEAM_CHANNEL),
        time="07:30",
        zone="Europe/Berlin",
    )
    await answer(fake, interaction)
    incoming = coach.seen[-1]
    assert incoming.text == f"/team setup {TEAM_CHANNEL} 07:30 Europe/Berlin"
    assert (incoming.group_ref, incoming.can_manage, incoming.is_private) == (
        str(GUILD),
        True,
        False,
    )

    for sub in ("off", "show"):
        interaction = await fake.slash("team", sub=sub, user=ADMIN, guild_id=GUILD)
        await answer(fake, interaction)
        assert coach.seen[-1].text == f"/team {sub}"


async def test_team_setup_refused_without_manage_server(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    for sub, options in (
        ("setup", {"channel": ChannelRef(TEAM_CHANNEL), "time": "07:30"}),
        ("off", {}),
    ):
        interaction = await fake.slash("team", sub=sub, user=BEN, guild_id=GUILD, **options)
        refusal = await callback(fake, interaction)
        assert refusal.json["type"] == 4
        assert refusal.json["data"]["content"] == TEAM_REFUSAL
        assert refusal.json["data"]["flags"] == EPHEMERAL
    interaction = await fake.slash("team", sub="show", user=BEN)  # in a DM
    refusal = await callback(fake, interaction)
    assert refusal.json["data"]["content"] == TEAM_DM_REFUSAL
    assert coach.seen == []


async def test_teamname_is_for_every_member_in_a_server_or_a_dm(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    for choice in ("on", "off"):
        interaction = await fake.slash(
            TEAM_NAME_COMMAND, user=BEN, guild_id=GUILD, channel_id=9_001, choice=choice
        )
        assert (await callback(fake, interaction)).json == {"type": 5, "data": {"flags": EPHEMERAL}}
        assert (await answer(fake, interaction)).flags & EPHEMERAL
        incoming = coach.seen[-1]
        assert (incoming.text, incoming.group_ref, incoming.is_private, incoming.can_manage) == (
            f"/team name {choice}",
            str(GUILD),
            False,
            False,
        )
    # In the bot's DM: the core applies it to every team the person is in.
    interaction = await fake.slash(TEAM_NAME_COMMAND, user=BEN, choice="off")
    await answer(fake, interaction)
    assert (coach.seen[-1].text, coach.seen[-1].is_private) == ("/team name off", True)
    assert len(coach.seen) == 3


async def test_a_non_text_channel_is_refused(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    interaction = await fake.slash(
        "team",
        sub="setup",
        user=ADMIN,
        guild_id=GUILD,
        channel=ChannelRef(77, name="voice", type=2),
        time="07:30",
    )
    refusal = await callback(fake, interaction)
    assert refusal.json["type"] == 4 and refusal.json["data"]["flags"] == EPHEMERAL
    assert coach.seen == []


async def test_autocomplete_zone_and_exercise(
    fake: FakeDiscord, settings: Settings, coach: FakeCoach, tmp_path: Path
) -> None:
    names = ["Hip hinge", "Hamstring floss", "Dead bug", "Cat-cow"]
    async with running(settings, coach, tmp_path, exercise_names=lambda: names):
        interaction = await fake.autocomplete("remind", "zone", user=ANN, time="07:30", zone="berl")
        zones = await callback(fake, interaction)
        assert zones.json["type"] == 8
        assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in zones.json["data"]["choices"]

        interaction = await fake.autocomplete(
            "team", "zone", sub="setup", user=ADMIN, guild_id=GUILD, time="07:30", zone="new_y"
        )
        zones = await callback(fake, interaction)
        assert [c["value"] for c in zones.json["data"]["choices"]] == ["America/New_York"]

        interaction = await fake.autocomplete("exercise", "name", user=ANN, name="ha")
        found = await callback(fake, interaction)
        assert [c["value"] for c in found.json["data"]["choices"]] == ["Hamstring floss"]
        interaction = await fake.autocomplete("exercise", "name", user=ANN, name="")
        found = await callback(fake, interaction)
        assert len(found.json["data"]["choices"]) == 4
    assert coach.seen == []


async def test_exercise_autocomplete_without_names(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    interaction = await fake.autocomplete("exercise", "name", user=ANN, name="ha")
    found = await callback(fake, interaction)
    assert found.json["data"]["choices"] == []


# ------------------------------------------------------------------------------ rendering


async def test_image_title_and_markdown(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    interaction = await fake.slash("exercise", user=ANN, name="Hip_hinge *1*")
    reply = await answer(fake, interaction)
    assert reply.files and reply.files[0][0] == "hinge.png"
    assert reply.files[0][1].startswith(b"\x89PNG")
    assert reply.json["content"] == "**Hip\\_hinge \\*1\\***\nHinge at the hips, back flat."
    assert reply.json["allowed_mentions"] == {"parse": []}


async def test_long_text_is_split_and_buttons_go_on_the_last_part(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    line = "Hold the stretch for thirty seconds and breathe out slowly.\n"
    coach.answer_with = [Reply(line * 90, buttons=((Button("Done", "v1:x:done:1:0"),),))]
    interaction = await fake.slash("routine", user=ANN)
    parts = await answers(fake, interaction, 3)
    assert all(len(part.json["content"]) <= 2000 for part in parts)
    assert "".join(part.json["content"] for part in parts).count("thirty") == 90
    assert [bool(part.json.get("components")) for part in parts] == [False, False, True]


async def test_buttons_wrap_at_five_per_row_and_duplicates_are_dropped(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    row = tuple(Button(str(n), f"v1:x:n:{n}:0") for n in range(7))
    coach.answer_with = [Reply("pick", buttons=(row, (Button("again", "v1:x:n:0:0"),)))]
    interaction = await fake.slash("routine", user=ANN)
    reply = await answer(fake, interaction)
    rows = reply.json["components"]
    assert [len(r["components"]) for r in rows] == [5, 2]


async def test_no_reply_removes_the_thinking_placeholder(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    coach.answer_with = []
    interaction = await fake.slash("resume", user=ANN)
    await fake.wait_for(
        lambda call: call.token == interaction.token and call.route == "followup_delete"
    )


async def test_a_coach_failure_gets_an_apology_not_silence(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach, caplog: pytest.LogCaptureFixture
) -> None:
    coach.fail_next = True
    interaction = await fake.slash("progress", user=BEN, guild_id=GUILD)
    reply = await answer(fake, interaction)
    assert reply.json["content"].startswith("Sorry, something went wrong")
    assert reply.flags & EPHEMERAL
    logged = [r for r in caplog.records if r.name == "bot.adapters.discord"]
    assert [r.levelname for r in logged] == ["ERROR"]
    assert "/progress" not in logged[0].getMessage()  # an exception's text may quote input
    caplog.clear()


# ------------------------------------------------------------------------------ buttons


async def _checkin_by_buttons(
    fake: FakeDiscord, who: Person, guild_id: int | None = None
) -> tuple[int, list[Call]]:
    start = await fake.slash("checkin", user=who, guild_id=guild_id)
    question = await answer(fake, start)
    message_id = int(message_of(question)["id"])
    steps = []
    for label in ("3", "mostly", "7"):
        current = fake.messages[message_id]
        press = await fake.press(message_id, buttons(current)[label], user=who)
        steps.append(await answer(fake, press))
    return message_id, steps


@pytest.mark.parametrize("guild_id", [None, GUILD], ids=["dm", "server"])
async def test_full_checkin_by_buttons(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach, guild_id: int | None
) -> None:
    message_id, steps = await _checkin_by_buttons(fake, ANN, guild_id)
    # Each answer edits the question in place: one message, no stack of new ones.
    assert [step.route for step in steps] == ["followup_edit"] * 3
    assert all(step.params["mid"] == "@original" for step in steps)
    final = fake.messages[message_id]
    assert final["content"] == "Check-in saved: pain 3, flat mostly, comfort 7."
    assert final["components"] == []
    assert [incoming.action for incoming in coach.seen[1:]] == [
        "v1:ci:pain:3:40",
        "v1:ci:flat:mostly:40",
        "v1:ci:comfort:7:40",
    ]
    presses = fake.find(lambda call: call.route == "callback" and call.json["type"] == 6)
    assert len(presses) == 3  # every press deferred at once
    if guild_id is not None:
        assert fake.message_ephemeral[message_id]
        assert_no_public_health_data(fake)


async def test_comfort_row_has_a_none_button(fake: FakeDiscord, bot: CoachClient) -> None:
    start = await fake.slash("checkin", user=ANN)
    message_id = int(message_of(await answer(fake, start))["id"])
    for label in ("2", "yes"):
        press = await fake.press(message_id, buttons(fake.messages[message_id])[label], user=ANN)
        await answer(fake, press)
    rows = fake.messages[message_id]["components"]
    assert [len(row["components"]) for row in rows] == [5, 1, 5, 1]


async def test_a_button_from_before_a_restart_still_works(
    fake: FakeDiscord, settings: Settings, coach: FakeCoach, tmp_path: Path
) -> None:
    async with running(settings, coach, tmp_path):
        start = await fake.slash("checkin", user=ANN)
        message_id = int(message_of(await answer(fake, start))["id"])
    # A new process: a new client, the same coach state (the database), yesterday's message.
    async with running(settings, coach, tmp_path) as client:
        assert client.ws is not None
        press = await fake.press(message_id, buttons(fake.messages[message_id])["4"], user=ANN)
        edit = await answer(fake, press)
    assert edit.route == "followup_edit"
    assert coach.seen[-1].action == "v1:ci:pain:4:40"
    assert "flat" in fake.messages[message_id]["content"]


async def test_a_button_pressed_by_another_member_is_refused(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    start = await fake.slash("checkin", user=ANN, guild_id=GUILD)
    question = message_of(await answer(fake, start))
    before = dict(question)
    press = await fake.press(int(question["id"]), buttons(question)["5"], user=BEN)
    refusal = await answer(fake, press)
    assert refusal.route == "followup"  # a new private notice, not an edit of Ann's message
    assert refusal.flags & EPHEMERAL
    assert refusal.json["content"] == "That button is not for you."
    assert coach.seen[-1].user_ref == str(BEN.id)
    assert fake.messages[int(question["id"])] == before
    assert "pain" not in coach.checkins[40]


async def test_forged_custom_ids(fake: FakeDiscord, bot: CoachClient, coach: FakeCoach) -> None:
    start = await fake.slash("checkin", user=ANN)
    question = message_of(await answer(fake, start))
    since = fake.mark()
    seen = len(coach.seen)

    # Not a coach payload at all: no handler matches, nothing is sent.
    await fake.press(int(question["id"]), "admin:drop-tables", user=BEN)
    # A coach-shaped payload that is not on the message: discord.py drops it.
    await fake.press(int(question["id"]), "v1:ci:pain:9:41", user=BEN)
    await barrier(fake)
    assert len(coach.seen) == seen + 1  # only the barrier's /help
    forged_tokens = {i.token for i in list(fake.interactions.values())[-3:-1]}
    assert not fake.find(lambda call: call.token in forged_tokens, since=since)

    # A whole forged message naming Ann's check-in: it reaches the coach, which refuses.
    forged = dict(question)
    forged["components"] = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": "9", "custom_id": "v1:ci:pain:9:40"},
                {"type": 2, "style": 2, "label": "x", "custom_id": "v1:ci:pain:99999999999:40"},
            ],
        }
    ]
    press = await fake.press(0, "v1:ci:pain:9:40", user=BEN, message=forged)
    refusal = await answer(fake, press)
    assert refusal.json["content"] == "That button is not for you."
    assert coach.seen[-1].action == "v1:ci:pain:9:40"
    assert "pain" not in coach.checkins[40]


async def test_team_post_button_answers_privately_and_never_edits_the_post(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    fake.add_channel(TEAM_CHANNEL, GUILD)
    sender = DiscordSender(bot)
    post = Reply(
        "Today's team routine is ready.",
        buttons=((Button("Start my routine", "v1:team:start:go:0"),),),
    )
    assert await sender.send_to_channel(str(TEAM_CHANNEL), [post]) is Delivery.SENT
    sent = await fake.wait_for(lambda call: call.route == "channel_message")
    message = message_of(sent)
    assert sent.json["components"][0]["components"][0]["custom_id"] == "v1:team:start:go:0"

    for who in (ANN, BEN):
        press = await fake.press(int(message["id"]), "v1:team:start:go:0", user=who)
        routine = await answer(fake, press)
        # The coach asked to edit, but the post is public: a private follow-up instead.
        assert routine.route == "followup" and routine.flags & EPHEMERAL
        assert coach.seen[-1].user_ref == str(who.id)
    assert fake.messages[int(message["id"])]["content"] == "Today's team routine is ready."
    assert_no_public_health_data(fake)


async def test_typed_answers_in_a_dm_reach_the_coach(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    channel = await fake.send_dm(ANN, "Berlin")
    reply = await fake.wait_for(lambda call: call.route == "channel_message")
    assert reply.params["channel_id"] == str(channel)
    assert reply.json["content"] == "ok Berlin"
    assert coach.seen == [
        Incoming(
            platform=Platform.DISCORD,
            user_ref=str(ANN.id),
            chat_ref=str(channel),
            is_private=True,
            display_name="ann",
            text="Berlin",
        )
    ]
    # The bot's own DMs come back as events: never answered.
    since = fake.mark()
    await fake.send_dm(ANN, "ok Berlin", author=fake.bot("x").user_payload())
    await barrier(fake)
    assert len(coach.seen) == 2 and coach.seen[-1].text == "/help"
    assert not fake.find(lambda call: call.route == "channel_message", since=since)


# ------------------------------------------------------------------------------ delivery


async def test_dms_closed_marks_unreachable_and_falls_back_to_ephemeral(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    sender = DiscordSender(bot)
    fake.fail_next("channel_message", 1, 403)  # code 50007: cannot send messages to this user
    reminder = Reply(
        "Time for your routine (12 min).", buttons=((Button("Start", "v1:r:go:1:0"),),)
    )
    assert await sender.send_to_person(str(ANN.id), [reminder]) is Delivery.UNREACHABLE
    assert coach.unreachable == [(Platform.DISCORD, str(ANN.id))]
    dm = await fake.wait_for(lambda call: call.route == "dm_create")
    assert dm.json == {"recipient_id": ANN.id} or dm.json == {"recipient_id": str(ANN.id)}

    interaction = await fake.slash("progress", user=ANN, guild_id=GUILD)
    replies = await answers(fake, interaction, 3)
    assert [r.json["content"] for r in replies] == [
        "ok /progress",
        escape(DM_CLOSED_NOTICE),
        "Time for your routine (12 min).",
    ]
    assert all(r.flags & EPHEMERAL for r in replies)
    assert replies[2].json["components"][0]["components"][0]["custom_id"] == "v1:r:go:1:0"

    # Shown once.
    interaction = await fake.slash("help", user=ANN, guild_id=GUILD)
    await answer(fake, interaction)
    await barrier(fake)
    assert len(fake.find(_answers(interaction))) == 1


async def test_send_to_person_by_dm(fake: FakeDiscord, bot: CoachClient, coach: FakeCoach) -> None:
    sender = DiscordSender(bot)
    reply = Reply("Time for your routine.", buttons=((Button("Start", "v1:r:go:1:0"),),))
    assert await sender.send_to_person(str(ANN.id), [reply]) is Delivery.SENT
    sent = await fake.wait_for(lambda call: call.route == "channel_message" and call.status == 200)
    assert sent.params["channel_id"] == str(fake.dm_channel_id(ANN.id))
    # The reminder's button works like any other.
    press = await fake.press(int(message_of(sent)["id"]), "v1:r:go:1:0", user=ANN)
    await answer(fake, press)
    assert coach.seen[-1].action == "v1:r:go:1:0" and coach.seen[-1].is_private


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (503, None, Delivery.RETRY),
        (403, 50001, Delivery.UNREACHABLE),
        (404, None, Delivery.UNREACHABLE),
        (400, None, Delivery.FAILED),
        (429, None, Delivery.RETRY),  # no Via header: discord.py does not retry
    ],
)
async def test_send_to_channel_outcomes(
    fake: FakeDiscord,
    bot: CoachClient,
    status: int,
    code: int | None,
    expected: Delivery,
) -> None:
    fake.add_channel(TEAM_CHANNEL, GUILD)
    fake.fail_next("channel_message", 1, status, code=code, via=False)
    sender = DiscordSender(bot)
    assert await sender.send_to_channel(str(TEAM_CHANNEL), [Reply("Team digest")]) is expected


async def test_private_replies_never_reach_a_channel(fake: FakeDiscord, bot: CoachClient) -> None:
    fake.add_channel(TEAM_CHANNEL, GUILD)
    sender = DiscordSender(bot)
    secret = Reply("Your pain went from 5 to 3.", private=True)
    assert await sender.send_to_channel(str(TEAM_CHANNEL), [secret]) is Delivery.FAILED
    public = Reply("Team digest: 4 of 6 people moved 3 days this week.")
    assert await sender.send_to_channel(str(TEAM_CHANNEL), [secret, public]) is Delivery.SENT
    sent = fake.find(lambda call: call.route == "channel_message")
    assert [call.json["content"] for call in sent] == [public.text]
    assert_no_public_health_data(fake)


async def test_rate_limited_followup_still_arrives(
    fake: FakeDiscord, bot: CoachClient, coach: FakeCoach
) -> None:
    fake.fail_next("followup", 1, 429, retry_after=0.05)
    fake.fail_next("channel_message", 2, 429, retry_after=0.05)
    interaction = await fake.slash("help", user=ANN, guild_id=GUILD)
    reply = await answer(fake, interaction)
    limited = fake.find(lambda call: call.token == interaction.token and call.status == 429)
    assert len(limited) == 1 and limited[0].index < reply.index
    assert reply.json["content"].startswith("Here is what I can do")

    fake.add_channel(TEAM_CHANNEL, GUILD)
    sender = DiscordSender(bot)
    assert await sender.send_to_channel(str(TEAM_CHANNEL), [Reply("Team digest")]) is Delivery.SENT
    outcomes = [call.status for call in fake.find(lambda call: call.route == "channel_message")]
    assert outcomes == [429, 429, 200]


# ------------------------------------------------------------------------------ gateway


async def test_gateway_drop_resumes_without_losing_a_checkin(
    fake: FakeDiscord, settings: Settings, coach: FakeCoach, tmp_path: Path
) -> None:
    client = build_client(
        settings, coach, guild_ready_timeout=0, sync_state_path=tmp_path / "sync.json"
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve_discord(settings, coach, stop, client=client))
    try:
        await fake.wait_for(lambda call: call.route == "gateway_identify")
        await asyncio.wait_for(client.wait_until_ready(), 5)

        start = await fake.slash("checkin", user=ANN)
        message_id = int(message_of(await answer(fake, start))["id"])
        press = await fake.press(message_id, buttons(fake.messages[message_id])["6"], user=ANN)
        await answer(fake, press)

        await fake.drop_connection()
        # Pressed while the socket is down: Discord holds it and replays it on RESUME.
        flat = buttons(fake.messages[message_id])["no"]
        press = await fake.press(message_id, flat, user=ANN)
        resumed = await fake.wait_for(lambda call: call.route == "gateway_resume")
        await answer(fake, press)
        assert resumed.json["seq"] >= 2

        press = await fake.press(message_id, buttons(fake.messages[message_id])["none"], user=ANN)
        await answer(fake, press)
        assert fake.messages[message_id]["content"].startswith("Check-in saved: pain 6, flat no")
        assert len(fake.find(lambda call: call.route == "gateway_identify")) == 1
        actions = [incoming.action for incoming in coach.seen if incoming.action]
        assert actions == ["v1:ci:pain:6:40", "v1:ci:flat:no:40", "v1:ci:comfort:none:40"]
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


async def test_serve_discord_needs_a_token(coach: FakeCoach) -> None:
    with pytest.raises(ValueError, match="COACH_DISCORD_TOKEN"):
        await serve_discord(Settings(discord_token=None), coach, asyncio.Event())


# ------------------------------------------------------------------------------ the real coach


@pytest.fixture
async def real_coach(settings: Settings) -> AsyncIterator[Any]:
    from bot.bootstrap import build_coach
    from tests.chat import FakeClock

    built = await build_coach(settings, clock=FakeClock())
    yield built
    await built.close()


async def _press_label(fake: FakeDiscord, message_id: int, label: str, who: Person) -> list[Call]:
    """Press a button by its label and return the answers seen once the press is handled."""
    custom_id = buttons(fake.messages[message_id])[label]
    press = await fake.press(message_id, custom_id, user=who)
    return [await answer(fake, press)]


async def _onboard(fake: FakeDiscord, who: Person) -> None:
    start = await fake.slash("start", user=who)
    [question] = await answers(fake, start, 1)  # the welcome and the first question: one
    assert "not a diagnosis" in question.json["content"]
    assert "safety check" in question.json["content"] and "None of these" in buttons(
        message_of(question)
    )
    message_id = int(message_of(question)["id"])
    for label in ("None of these", "None of these", "3", "6", "Skip"):
        [step] = await _press_label(fake, message_id, label, who)
        assert step.route == "followup_edit"
    assert "time zone" in fake.messages[message_id]["content"]
    # A typed answer: the time zone goes into the bot's DM as a message.
    since = fake.mark()
    dm = await fake.send_dm(who, "Berlin")
    is_dm_post = lambda call: (  # noqa: E731
        call.route == "channel_message" and call.params["channel_id"] == str(dm)
    )
    asked = await fake.wait_for(is_dm_post, since=since)  # the zone and the time question
    assert "Europe/Berlin" in asked.json["content"] and "What time" in asked.json["content"]
    [done] = await _press_label(fake, int(message_of(asked)["id"]), "07:00", who)
    assert "all set" in done.json["content"]
    assert len(fake.find(_answers(start))) == 1  # /start said it all in one message
    assert len(fake.find(is_dm_post, since)) == 1


async def test_real_coach_onboarding_and_checkin_by_buttons(
    fake: FakeDiscord, settings: Settings, real_coach: Any, tmp_path: Path
) -> None:
    async with running(settings, real_coach, tmp_path):
        await _onboard(fake, ANN)
        start = await fake.slash("checkin", user=ANN, guild_id=GUILD)
        [question] = await answers(fake, start, 1)  # "Nice work." and the first question
        assert question.flags & EPHEMERAL
        assert "Four quick questions" in question.json["content"]
        assert "DURING" in question.json["content"]
        message_id = int(message_of(question)["id"])
        for label in ("2", "No", "Yes", "7"):
            await _press_label(fake, message_id, label, ANN)
        last = fake.find(lambda call: call.route in ("followup", "followup_edit"))[-1]
        assert "Logged: pain 2/10, back neutral: yes, deadlift comfort: 7" in last.json["content"]
        assert last.flags & EPHEMERAL or fake.message_ephemeral[int(message_of(last)["id"])]
    assert_no_public_health_data(fake)


async def test_real_coach_button_from_before_a_restart(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    from bot.bootstrap import build_coach
    from tests.chat import FakeClock

    clock = FakeClock()
    first = await build_coach(settings, clock=clock)
    try:
        async with running(settings, first, tmp_path):
            await _onboard(fake, ANN)
            start = await fake.slash("checkin", user=ANN)
            [question] = await answers(fake, start, 1)
            message_id = int(message_of(question)["id"])
    finally:
        await first.close()

    # A new process: new client, new coach, the same database file.
    second = await build_coach(settings, clock=clock)
    try:
        async with running(settings, second, tmp_path):
            [edit] = await _press_label(fake, message_id, "5", ANN)
            assert edit.route == "followup_edit"
            assert "down a leg" in fake.messages[message_id]["content"]
    finally:
        await second.close()


async def test_real_coach_refuses_another_members_press_and_forgeries(
    fake: FakeDiscord, settings: Settings, real_coach: Any, tmp_path: Path
) -> None:
    async with running(settings, real_coach, tmp_path):
        await _onboard(fake, ANN)
        await answer(fake, await fake.slash("help", user=BEN, guild_id=GUILD))  # Ben is known
        start = await fake.slash("checkin", user=ANN, guild_id=GUILD)
        [question] = await answers(fake, start, 1)
        message = message_of(question)
        before = dict(message)

        [refusal] = await _press_label(fake, int(message["id"]), "9", BEN)
        assert refusal.route == "followup" and refusal.flags & EPHEMERAL
        assert "someone else" in refusal.json["content"]
        assert fake.messages[int(message["id"])] == before

        forged = dict(message)
        forged["components"] = [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 2, "label": "x", "custom_id": "v1:ci:pain:9:999999"},
                    {"type": 2, "style": 2, "label": "y", "custom_id": "v1:ci:pain:99:1"},
                ],
            }
        ]
        for custom_id in ("v1:ci:pain:9:999999", "v1:ci:pain:99:1"):
            press = await fake.press(0, custom_id, user=BEN, message=forged)
            refused = await answer(fake, press)
            assert refused.route == "followup" and refused.flags & EPHEMERAL
            assert "pain" not in refused.json["content"].lower()

        # Ann's check-in is untouched and still answers her own press.
        [edit] = await _press_label(fake, int(message["id"]), "1", ANN)
        assert edit.route == "followup_edit"
    assert_no_public_health_data(fake)


async def test_real_coach_commands_and_unreachable(
    fake: FakeDiscord, settings: Settings, real_coach: Any, tmp_path: Path
) -> None:
    names = lambda: [e.name for e in real_coach.library.exercises.values()]  # noqa: E731
    async with running(settings, real_coach, tmp_path, exercise_names=names) as client:
        for name, options in (("help", {}), ("privacy", {}), ("exercise", {"name": "dead bug"})):
            interaction = await fake.slash(name, user=BEN, guild_id=GUILD, **options)
            # /exercise may draw its picture first (a cold cache: seconds on a busy machine).
            reply = await answer(fake, interaction, timeout=60.0)
            assert reply.flags & EPHEMERAL and reply.json["content"]
        found = await fake.autocomplete("exercise", "name", user=BEN, name="dead")
        choices = (await callback(fake, found)).json["data"]["choices"]
        assert any("dead bug" in c["value"].lower() for c in choices)

        await _onboard(fake, ANN)
        sender = DiscordSender(client)
        fake.fail_next("channel_message", 1, 403)
        assert await sender.send_to_person(str(ANN.id), [Reply("Time to move.")]) is (
            Delivery.UNREACHABLE
        )
        interaction = await fake.slash("progress", user=ANN)
        replies = await answers(fake, interaction, 3)
        assert replies[-1].json["content"] == "Time to move."
    assert_no_public_health_data(fake)


async def test_logs_hold_no_tokens_or_text(
    fake: FakeDiscord, coach: FakeCoach, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(discord_token="bot-token-SECRET")
    async with running(settings, coach, tmp_path):
        coach.answer_with = [Reply("reply-SECRET", buttons=((Button("b", "v1:x:y:1:0"),),))]
        interaction = await fake.slash("exercise", user=ANN, guild_id=GUILD, name="typed-SECRET")
        reply = await answer(fake, interaction)
        press = await fake.press(int(message_of(reply)["id"]), "v1:x:y:1:0", user=ANN)
        await answer(fake, press)
        await fake.send_dm(ANN, "dm-SECRET")
        await fake.wait_for(lambda call: call.route == "channel_message")
        fake.fail_next("followup", 1, 429, retry_after=0.01)
        interaction = await fake.slash("help", user=ANN)
        await answer(fake, interaction)
    assert any(r.name.startswith("discord") for r in caplog.records)  # logging was on
    secrets = ["SECRET", *(i.token for i in fake.interactions.values())]
    for record in caplog.records:
        text = record.getMessage()
        assert not any(secret in text for secret in secrets), (record.name, text[:200])


async def test_real_coach_team_setup_daily_post_and_digest(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.bootstrap import build_coach
    from bot.service import team as team_service
    from tests.chat import FakeClock
    from tests.integration.scheduler_support import scheduler

    tuesday = datetime(2027, 1, 5, 6, 30, 10, tzinfo=UTC)  # 07:30:10 in Berlin
    digest = datetime(2027, 1, 11, 6, 30, 10, tzinfo=UTC)  # the Monday after
    in_channel = lambda call: (  # noqa: E731
        call.route == "channel_message" and call.params["channel_id"] == str(TEAM_CHANNEL)
    )
    clock = FakeClock()  # Monday 2027-01-04 09:00 in Berlin
    coach = await build_coach(settings, clock=clock)
    fake.add_channel(TEAM_CHANNEL, GUILD)
    try:
        async with running(settings, coach, tmp_path) as client:
            setup = {"channel": ChannelRef(TEAM_CHANNEL), "time": "07:30", "zone": "Europe/Berlin"}
            # Without Manage Server: refused by the adapter, the coach never asked.
            interaction = await fake.slash("team", sub="setup", user=BEN, guild_id=GUILD, **setup)
            assert (await callback(fake, interaction)).json["data"]["content"] == TEAM_REFUSAL
            # The coach refuses on its own too, should an adapter let one through.
            forged = Incoming(
                Platform.DISCORD,
                str(BEN.id),
                "9001",
                is_private=False,
                text=f"/team setup {TEAM_CHANNEL} 07:30 Europe/Berlin",
                group_ref=str(GUILD),
            )
            assert [r.text for r in await coach.handle(forged)] == [team_service.REFUSE_MANAGE]
            # With Manage Server: through the real coach.
            interaction = await fake.slash("team", sub="setup", user=ADMIN, guild_id=GUILD, **setup)
            reply = await answer(fake, interaction)
            assert reply.flags & EPHEMERAL and "Team posts are on" in reply.json["content"]
            assert f"<#{TEAM_CHANNEL}>" in reply.json["content"]
            interaction = await fake.slash("team", sub="show", user=ADMIN, guild_id=GUILD)
            assert "0 members" in (await answer(fake, interaction)).json["content"]

            await _onboard(fake, ANN)
            reminders = scheduler(coach.sessions, {Platform.DISCORD: DiscordSender(client)})
            clock.now = tuesday
            assert (await reminders.tick(tuesday)).sent >= 1
            post = message_of(await fake.wait_for(in_channel))
            assert "Team routine" in post["content"] and "Floor work" in post["content"]
            assert not fake.message_ephemeral[int(post["id"])]

            # Ann starts her routine from the post: private (ephemeral) answers only.
            custom_id = buttons(post)["Start my routine"]
            press = await fake.press(int(post["id"]), custom_id, user=ANN)
            album, routine, notice = await answers(fake, press, 3)
            assert album.flags & routine.flags & notice.flags & EPHEMERAL
            assert len(album.files) == len(album.json["embeds"]) == 4  # the phase's stills
            assert "Phase 1 of 3" in routine.json["content"]
            [named] = await _press_label(
                fake, int(message_of(notice)["id"]), "Show my name to the team", ANN
            )
            assert "Never your scores" in named.json["content"]
            # The check-in from that routine stays private, and the channel hears she did it.
            done = buttons(message_of(routine))["Done - check in"]
            press = await fake.press(int(message_of(routine)["id"]), done, user=ANN)
            [question] = await answers(fake, press, 1)
            assert "Four quick questions" in question.json["content"]
            for label in ("2", "No", "Yes", "7"):
                await _press_label(fake, int(message_of(question)["id"]), label, ANN)
            last = fake.find(lambda call: call.route in ("followup", "followup_edit"))[-1]
            assert "Logged: pain 2/10" in last.json["content"]
            mark = fake.mark()
            await reminders.tick(tuesday + timedelta(minutes=10))
            line = await fake.wait_for(in_channel, since=mark)
            assert line.json["content"] == "ann did today's routine."
            assert fake.messages[int(post["id"])] == post  # the post itself never changes

            # A week after setup: the digest, in the channel, with counts and the opted-in name.
            mark = fake.mark()
            clock.now = digest
            await reminders.tick(digest)
            found = await fake.wait_for(
                lambda call: in_channel(call) and "digest" in call.content, since=mark
            )
            assert "1 of 1 member trained this week" in found.content
            assert "Team adherence:" in found.content and "Trained this week: ann." in found.content
    finally:
        await coach.close()
    channel_posts = [p.content for p in fake.public_guild_posts()]
    assert len(channel_posts) == 3 and all("/10" not in text for text in channel_posts)
    assert_no_public_health_data(fake)


async def test_real_coach_member_shows_then_hides_their_name(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    """A member without Manage Server opts in and out again (the toggle button, `/teamname`):
    after opting out, neither the "done" line nor the digest names them."""
    from datetime import UTC, datetime, timedelta

    from bot.bootstrap import build_coach
    from bot.service import team as team_service
    from tests.chat import FakeClock
    from tests.integration.scheduler_support import scheduler

    tuesday = datetime(2027, 1, 5, 6, 30, 10, tzinfo=UTC)  # 07:30:10 in Berlin
    digest = datetime(2027, 1, 11, 6, 30, 10, tzinfo=UTC)  # the Monday after
    in_channel: Callable[[Call], bool] = lambda call: (  # noqa: E731
        call.route == "channel_message" and call.params["channel_id"] == str(TEAM_CHANNEL)
    )
    clock = FakeClock()  # Monday 2027-01-04 09:00 in Berlin
    coach = await build_coach(settings, clock=clock)
    fake.add_channel(TEAM_CHANNEL, GUILD)
    try:
        async with running(settings, coach, tmp_path) as client:
            interaction = await fake.slash(
                "team",
                sub="setup",
                user=ADMIN,
                guild_id=GUILD,
                channel=ChannelRef(TEAM_CHANNEL),
                time="07:30",
                zone="Europe/Berlin",
            )
            assert "Team posts are on" in (await answer(fake, interaction)).json["content"]
            await _onboard(fake, ANN)
            reminders = scheduler(coach.sessions, {Platform.DISCORD: DiscordSender(client)})
            clock.now = tuesday
            await reminders.tick(tuesday)
            post = message_of(await fake.wait_for(in_channel))

            press = await fake.press(int(post["id"]), buttons(post)["Start my routine"], user=ANN)
            _, routine, notice = await answers(fake, press, 3)  # the album, then the text
            notice_id = int(message_of(notice)["id"])

            # The button is a toggle: shown, then hidden again, on the same private message.
            [shown] = await _press_label(fake, notice_id, team_service.SHOW_NAME_LABEL, ANN)
            assert "/teamname off undoes it" in shown.json["content"]
            assert list(buttons(fake.messages[notice_id])) == [team_service.HIDE_NAME_LABEL]
            [hidden] = await _press_label(fake, notice_id, team_service.HIDE_NAME_LABEL, ANN)
            assert "stays out of the team channel" in hidden.json["content"]
            assert list(buttons(fake.messages[notice_id])) == [team_service.SHOW_NAME_LABEL]

            # `/teamname`, open to a member without Manage Server: on, then off again.
            for choice, said in (("on", "Never your scores"), ("off", "stays out")):
                interaction = await fake.slash(
                    TEAM_NAME_COMMAND, user=ANN, guild_id=GUILD, choice=choice
                )
                reply = await answer(fake, interaction)
                assert reply.flags & EPHEMERAL and said in reply.json["content"]

            # The check-in from the team post's routine: no "ann did today's routine" line.
            done = buttons(message_of(routine))["Done - check in"]
            press = await fake.press(int(message_of(routine)["id"]), done, user=ANN)
            [question] = await answers(fake, press, 1)
            assert "Four quick questions" in question.json["content"]
            for label in ("2", "No", "Yes", "7"):
                await _press_label(fake, int(message_of(question)["id"]), label, ANN)
            last = fake.find(lambda call: call.route in ("followup", "followup_edit"))[-1]
            assert "Logged: pain 2/10" in last.json["content"]
            mark = fake.mark()
            await reminders.tick(tuesday + timedelta(minutes=10))
            assert not fake.find(in_channel, since=mark)

            # The digest counts her, without her name.
            mark = fake.mark()
            clock.now = digest
            await reminders.tick(digest)
            found = await fake.wait_for(
                lambda call: in_channel(call) and "digest" in call.content, since=mark
            )
            assert "1 of 1 member trained this week" in found.content
            words = "".join(c if c.isalnum() else " " for c in found.content.lower()).split()
            assert "ann" not in words and "Trained this week:" not in found.content
    finally:
        await coach.close()
    assert_no_public_health_data(fake)


# ------------------------------------------------------------------------------ /report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PRIVATELY = "I'll send your report privately."


@asynccontextmanager
async def _coach_with_checkins(
    fake: FakeDiscord, settings: Settings, tmp_path: Path, who: Person
) -> AsyncIterator[CoachClient]:
    """The real coach, `who` onboarded and three days of check-ins behind them (a fake clock:
    one a day, each next morning's question answered), so the report has data to draw."""
    from bot.bootstrap import build_coach
    from tests.chat import FakeClock

    clock = FakeClock()
    coach = await build_coach(settings.model_copy(update={"charts_dir": tmp_path}), clock=clock)
    try:
        async with running(settings, coach, tmp_path) as client:
            await _onboard(fake, who)
            days = ((4, "mostly", 6), (3, "yes", 7), (2, "yes", 8))
            for day, (pain, flat, comfort) in enumerate(days):
                if day:
                    clock.advance(days=1)
                interaction = await fake.slash(
                    "checkin", user=who, pain=pain, flat=flat, comfort=comfort
                )
                logged = await answer(fake, interaction)
                if day:  # first the morning question about yesterday's session
                    assert "this morning" in logged.content
                    [logged] = await _press_label(fake, int(message_of(logged)["id"]), "2", who)
                assert f"Logged: pain {pain}/10" in logged.content
            yield client
    finally:
        await coach.close()


def _assert_report_files(calls: list[Call]) -> None:
    """A chart picture (PNG), then the same page as a PDF, each on its own message."""
    assert [len(call.files) for call in calls] == [1, 1]
    (png_name, png), (pdf_name, pdf) = (call.files[0] for call in calls)
    assert png_name.endswith(".png") and pdf_name.endswith(".pdf")
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000  # the page, not an empty file
    assert pdf.startswith(b"%PDF") and len(pdf) > 1_000


def _in_guild(fake: FakeDiscord, since: int) -> list[Posted]:
    """Every message version posted in the server from `since` on, ephemeral or not."""
    return [post for post in fake.posted[since:] if post.guild_id == GUILD]


async def test_real_coach_sends_the_report_in_a_dm_as_picture_and_pdf(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    async with _coach_with_checkins(fake, settings, tmp_path, ANN):
        interaction = await fake.slash("report", user=ANN)
        # The page is drawn first (a cold matplotlib: seconds on a busy machine).
        first = await answer(fake, interaction, timeout=60.0)
        picture, pdf = [first, *(await answers(fake, interaction, 2))[1:]]
    assert "Your report" in picture.content and "one page" in picture.content
    assert "physiotherapist" in pdf.content and "not a diagnosis" in pdf.content
    _assert_report_files([picture, pdf])
    dm = fake.dm_channel_id(ANN.id)
    for call in (picture, pdf):  # in the DM, the files on the messages as Discord keeps them
        message = message_of(call)
        assert int(message["channel_id"]) == dm
        assert [a["filename"] for a in message["attachments"]] == [call.files[0][0]]
    assert message_of(picture)["attachments"][0]["content_type"] == "image/png"


async def test_real_coach_sends_the_report_asked_in_a_server_to_the_dm(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    dm = str(fake.dm_channel_id(ANN.id))
    to_dm: Callable[[Call], bool] = lambda call: (  # noqa: E731
        call.route == "channel_message" and call.params["channel_id"] == dm
    )
    async with _coach_with_checkins(fake, settings, tmp_path, ANN):
        mark, posted = fake.mark(), len(fake.posted)
        interaction = await fake.slash("report", user=ANN, guild_id=GUILD, channel_id=TEAM_CHANNEL)
        await fake.wait_for(
            lambda call: to_dm(call) and any(name.endswith(".pdf") for name, _ in call.files),
            since=mark,
            timeout=60.0,
        )
        await barrier(fake)
        picture, pdf = fake.find(to_dm, since=mark)
    # The server: one line, which only she sees, without health data or a file.
    [line] = _in_guild(fake, posted)
    assert line.content == PRIVATELY
    assert line.ephemeral and not line.attachments and not line.embeds
    in_server = fake.find(_answers(interaction))
    assert [call.content for call in in_server] == [PRIVATELY]
    assert not any(call.files for call in in_server)
    # Her DM: the report, its picture and its PDF.
    assert "Your report" in picture.content and "physiotherapist" in pdf.content
    _assert_report_files([picture, pdf])
    assert_no_public_health_data(fake)


async def test_real_coach_report_in_a_server_with_dms_closed(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    async with _coach_with_checkins(fake, settings, tmp_path, ANN):
        fake.close_dms(ANN)
        mark, posted = fake.mark(), len(fake.posted)
        interaction = await fake.slash("report", user=ANN, guild_id=GUILD, channel_id=TEAM_CHANNEL)
        refused = await fake.wait_for(
            lambda call: call.route == "channel_message" and call.status == 403,
            since=mark,
            timeout=60.0,
        )
        notice = await fake.wait_for(
            lambda call: _answers(interaction)(call) and call.index > refused.index, since=mark
        )
        await barrier(fake)
    assert notice.content == escape(DM_CLOSED_KEEP_NOTICE) and notice.flags & EPHEMERAL
    # The server: the two lines, for her eyes only; never the report or a file.
    shown = _in_guild(fake, posted)
    assert [post.content for post in shown] == [PRIVATELY, notice.content]
    assert all(post.ephemeral and not post.attachments and not post.embeds for post in shown)
    for call in fake.find(_answers(interaction)):
        assert not call.files and "/10" not in call.content and "Your report" not in call.content
    # One attempt at her DM, refused, and nothing delivered anywhere else.
    sent = fake.find(lambda call: call.route == "channel_message", since=mark)
    assert [call.status for call in sent] == [403]
    assert_no_public_health_data(fake)
