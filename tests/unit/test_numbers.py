"""The one number reader: decimal digits of any script, nothing else, never too many.

Every reader of a typed number (scores, /pause days, /snooze minutes, times of day, the
console's numbered choices, button refs) goes through it, so what one accepts the others do.
"""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.console import ConsoleChat
from bot.core.actions import MAX_REF, Action, parse_action
from bot.core.answers import BadAnswer, read_score
from bot.core.messages import Reply
from bot.core.numbers import ascii_digits, whole_number
from bot.core.schedule import parse_hhmm
from bot.core.texts import choice_buttons, score_buttons
from bot.service.reminders import read_duration

# What str.isdigit() accepts and int() refuses, and numbers far too big.
NOT_NUMBERS = ["²", "2²", "³", "¹⁰", "①", "½", "Ⅻ", "三", "⁵"]
TOO_LONG = ["9" * 20, "٩" * 20, "1" * 5000]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("7", 7),
        (" 42 ", 42),
        ("007", 7),
        ("٣", 3),  # Arabic-Indic
        ("۴", 4),  # Extended Arabic-Indic (Persian)
        ("३", 3),  # Devanagari
        ("１２", 12),  # full-width
        ("1٢", 12),  # mixed scripts: each digit on its own
    ],
)
def test_whole_numbers_in_any_script(text: str, value: int) -> None:
    assert whole_number(text, max_digits=3) == value


@pytest.mark.parametrize(
    "text",
    [*NOT_NUMBERS, *TOO_LONG, "", " ", "-1", "+1", "1.0", "1_000", "1e3", "0x1", "1 2", "٣٣٣٣"],
)
def test_not_whole_numbers(text: str) -> None:
    assert whole_number(text, max_digits=3) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_whole_number_never_raises_and_agrees_with_decimal_digits(text: str) -> None:
    value = whole_number(text, max_digits=6)
    typed = text.strip()
    if value is None:
        assert not (typed.isdecimal() and 1 <= len(typed) <= 6)
    else:
        assert typed.isdecimal() and value == int(typed)  # int() reads any decimal digit


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_whole_number_reads_every_ascii_number(number: int) -> None:
    assert whole_number(str(number), max_digits=7) == number


def test_ascii_digits_keeps_other_characters_and_refuses_other_numerals() -> None:
    assert ascii_digits("٠٧:٣٠ pm") == "07:30 pm"
    assert ascii_digits("7:3²") is None


@pytest.mark.parametrize("text", NOT_NUMBERS + TOO_LONG)
def test_a_score_refuses_them_with_the_usual_question(text: str) -> None:
    with pytest.raises(BadAnswer, match="whole number from 0 to 10"):
        read_score(text, "pain")


@pytest.mark.parametrize("text", ["٣", "३", "３"])
def test_a_score_in_another_script(text: str) -> None:
    assert read_score(text, "pain") == 3


@pytest.mark.parametrize("text", NOT_NUMBERS + TOO_LONG + ["99999", "1h99999m"])
def test_a_snooze_refuses_them_in_plain_words(text: str) -> None:
    with pytest.raises(ValueError) as info:
        read_duration(text)
    assert str(info.value).startswith("Snooze for")  # no Python error text


@pytest.mark.parametrize(
    ("text", "delta"),
    [("٩٠", timedelta(minutes=90)), ("١h", timedelta(hours=1)), ("0030", timedelta(minutes=30))],
)
def test_a_snooze_in_another_script(text: str, delta: timedelta) -> None:
    assert read_duration(text) == delta


@pytest.mark.parametrize("text", ["²:30", "7:3⁰", "①⑦", "⁷am"])
def test_a_time_refuses_other_numerals(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        parse_hhmm(text)


def test_a_time_in_another_script() -> None:
    assert parse_hhmm("٧:٣٠pm") == time(19, 30)


@pytest.mark.parametrize(
    "ref", [str(MAX_REF + 1), "9" * 11, "99999999999999999", "123456789012345678"]
)
def test_a_button_ref_beyond_a_database_id_is_refused(ref: str) -> None:
    # A 32-bit id column: a larger ref used to fail the query (PostgreSQL) instead.
    assert parse_action(f"v1:ci:pain:3:{ref}") is None


def test_the_largest_id_still_round_trips() -> None:
    action = Action("ci", "pain", "3", MAX_REF)
    assert parse_action(action.encode()) == action


# -------------------------------------------------------------------------- the console


def _console(*rows: tuple[tuple, ...]) -> ConsoleChat:
    chat = ConsoleChat(coach=None, user="sam", out=io.StringIO())  # type: ignore[arg-type]
    chat.show([Reply("question", buttons=tuple(row for rows_ in rows for row in rows_))])
    return chat


def test_console_typed_number_on_a_scale_is_the_value_not_a_position() -> None:
    extra = choice_buttons("ob", "comfort", 1, [("I don't deadlift", "none")])[0]
    chat = _console(score_buttons("ob", "comfort", 1, extra))
    assert chat.to_incoming("3").action == "v1:ob:comfort:3:1"
    assert chat.to_incoming("10").action == "v1:ob:comfort:10:1"
    # Once button 11 ("10") and 12 ("I don't deadlift"): now the coach sees the number.
    for typed in ("11", "12", "0011", "²", "٣"):
        incoming = chat.to_incoming(typed)
        assert (incoming.action, incoming.text) == (None, typed)
    assert chat.to_incoming("I don't deadlift").action == "v1:ob:comfort:none:1"


def test_console_numbered_choices_for_other_questions() -> None:
    chat = _console(choice_buttons("ci", "flat", 5, [("Yes", "yes"), ("Mostly", "mostly")]))
    assert chat.to_incoming("2").action == "v1:ci:flat:mostly:5"
    assert chat.to_incoming("٢").action == "v1:ci:flat:mostly:5"
    for typed in ("0", "3", "²", "9" * 20, "٩" * 20):
        incoming = chat.to_incoming(typed)
        assert (incoming.action, incoming.text) == (None, typed)
