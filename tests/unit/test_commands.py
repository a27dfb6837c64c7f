"""The command declaration: one reader of typed commands, typed forms built from options, and
who may use what. Adapters build their surfaces from these, so these pin what each surface says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import (
    BY_NAME,
    COMMANDS,
    MAX_PAUSE_DAYS,
    TEAM,
    Kind,
    Who,
    needs_manager,
    read_channel,
    read_command,
    surface,
)
from bot.core.messages import Platform
from bot.core.texts import help_text


@pytest.mark.parametrize(
    ("text", "name", "args", "bot"),
    [
        ("/checkin 3 yes 7", "checkin", "3 yes 7", None),
        ("/Checkin@CoachBot  3 yes 7 ", "checkin", "3 yes 7", "CoachBot"),
        ("/progress@coach_bot", "progress", "", "coach_bot"),
        ("/team\nsetup 07:30", "team", "setup 07:30", None),
        ("/", "", "", None),
        ("/ checkin", "", "checkin", None),
        ("/remind@", "remind", "", ""),
    ],
)
def test_one_reader_for_typed_commands(text: str, name: str, args: str, bot: str | None) -> None:
    typed = read_command(text)
    assert typed is not None
    assert (typed.name, typed.args, typed.bot) == (name, args, bot)


@pytest.mark.parametrize("text", [None, "", "checkin 3", " /checkin", "pain 7/10"])
def test_text_that_is_not_a_command(text: str | None) -> None:
    assert read_command(text) is None


@given(st.text(max_size=40), st.text(alphabet="abcdefghij_", min_size=1, max_size=10))
def test_a_mention_never_changes_the_command_or_its_arguments(args: str, bot: str) -> None:
    plain, mentioned = read_command(f"/routine {args}"), read_command(f"/routine@{bot} {args}")
    assert plain is not None and mentioned is not None
    assert (plain.name, plain.args) == (mentioned.name, mentioned.args) == ("routine", args.strip())
    assert mentioned.bot == bot


def test_options_become_the_typed_form() -> None:
    checkin, summary = BY_NAME["checkin"], BY_NAME["summary"]
    assert checkin.typed({"pain": 3, "flat": "yes", "comfort": 7}) == "/checkin 3 yes 7"
    # Comfort left empty after pain and flat means "did not lift"; partial answers stay partial.
    assert checkin.typed({"pain": 0, "flat": "no"}) == "/checkin 0 no none"
    assert checkin.typed({"comfort": 5}) == "/checkin 5"
    assert checkin.typed({"pain": 2, "flat": "mostly", "comfort": 5, "leg": True}) == (
        "/checkin 2 mostly 5 leg"
    )
    assert summary.typed({"day": "mon"}) == "/summary on mon"
    assert summary.typed({"choice": "off", "day": "mon"}) == "/summary off"
    assert BY_NAME["remind"].typed({"time": "07:30", "zone": ""}) == "/remind 07:30"
    setup = TEAM.subcommand("setup")
    assert setup is not None
    assert setup.typed({"channel": 55, "time": "07:30"}, "team setup") == "/team setup 55 07:30"


def test_ranges_and_choices_are_declared_where_the_coach_checks_them() -> None:
    [days] = BY_NAME["pause"].args
    assert (days.kind, days.low, days.high) == (Kind.NUMBER, 1, MAX_PAUSE_DAYS)
    pain = BY_NAME["checkin"].args[0]
    assert (pain.low, pain.high) == (0, 10)
    assert [c.value for c in BY_NAME["snooze"].args[0].choices] == ["30m", "1h"]


def test_only_the_team_managers_forms_need_a_manager() -> None:
    def needs(text: str) -> bool:
        typed = read_command(text)
        assert typed is not None
        return needs_manager(typed)

    assert needs("/team setup 07:30") and needs("/team OFF") and needs("/team show")
    assert not needs("/team name on") and not needs("/team") and not needs("/routine")
    assert [c.name for c in COMMANDS if c.managed] == ["team"]
    assert {s.name for s in TEAM.subcommands if s.who is Who.MANAGERS} == {"setup", "off", "show"}


def test_help_lists_every_declared_command_with_its_usage() -> None:
    text = help_text()
    for command in COMMANDS:
        usage = f" {command.usage}" if command.usage else ""
        assert f"/{command.name}{usage} - {command.description}" in text


def test_each_platform_surface_spells_the_team_forms_its_own_way() -> None:
    discord, telegram = surface(Platform.DISCORD), surface("telegram")
    assert discord.typed(TEAM, "name") == "/teamname"
    assert telegram.typed(TEAM, "name") == "/team name"
    assert (discord.own_channel, telegram.own_channel) == (False, True)
    assert discord.channel_mention is not None and telegram.channel_mention is None


@pytest.mark.parametrize(
    ("word", "channel"),
    [("<#515151>", "515151"), ("-100555", "-100555"), ("515151", "515151"), ("07:30", None)],
)
def test_a_channel_is_typed_as_an_id_or_a_mention(word: str, channel: str | None) -> None:
    assert read_channel(word) == channel
