"""Reading answers and button payloads: bad input gets a clear message and nothing else."""

from __future__ import annotations

import pytest

from bot.core.actions import Action, parse_action
from bot.core.answers import (
    BadAnswer,
    clean_text,
    read_comfort,
    read_neutral,
    read_quick_checkin,
    read_score,
)
from bot.core.progression import Neutral


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), (" 10 ", 10), ("3/10", 3)])
def test_scores(text: str, value: int) -> None:
    assert read_score(text, "pain") == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("11", "above the scale"),
        ("-1", "whole number from 0 to 10"),
        ("three", "whole number from 0 to 10"),
        ("", "whole number from 0 to 10"),
        ("5" * 5000, "whole number from 0 to 10"),
        ("\x00\x07", "whole number from 0 to 10"),
        ("2.5", "whole number from 0 to 10"),
    ],
)
def test_bad_scores(text: str, message: str) -> None:
    with pytest.raises(BadAnswer, match=message):
        read_score(text, "pain")


def test_comfort_allows_not_lifting() -> None:
    assert read_comfort("didn't lift") is None
    assert read_comfort("Didn’t lift") is None
    assert read_comfort("8") == 8


@pytest.mark.parametrize(("text", "value"), [("yes", Neutral.YES), ("Mostly", Neutral.MOSTLY)])
def test_neutral(text: str, value: Neutral) -> None:
    assert read_neutral(text) is value


def test_neutral_rejects_other_words() -> None:
    with pytest.raises(BadAnswer, match="yes, mostly or no"):
        read_neutral("maybe")


def test_quick_checkin() -> None:
    quick = read_quick_checkin("3 yes 7")
    assert (quick.pain_during, quick.neutral, quick.comfort, quick.leg_symptoms) == (
        3,
        Neutral.YES,
        7,
        False,
    )
    assert read_quick_checkin("2 no none leg").leg_symptoms is True
    with pytest.raises(BadAnswer, match="/checkin 3 yes 7"):
        read_quick_checkin("3 yes")


def test_clean_text_drops_control_characters() -> None:
    assert clean_text("a\x00b\u202e c\n d") == "ab c d"


def test_action_round_trip() -> None:
    action = Action("ci", "pain", "7", 42)
    assert parse_action(action.encode()) == action
    assert len(action.encode()) <= 64


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "v2:ci:pain:7:42",
        "v1:ci:pain:7",
        "v1:ci:pain:7:42:extra",
        "v1:ci:pain:7:-1",
        "v1:ci:pain:7:abc",
        "v1:CI:pain:7:1",
        "v1:ci:pain:7:" + "9" * 60,
        "v1:ci:pa in:7:1",
        "v1:ci:pain:7:01",
        "💥" * 20,
    ],
)
def test_forged_payloads_are_refused(payload: str) -> None:
    assert parse_action(payload) is None


def test_encode_refuses_what_would_not_parse() -> None:
    with pytest.raises(ValueError):
        Action("ci", "pain", "a:b", 1).encode()
