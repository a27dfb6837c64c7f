"""Reading a person's answers: numbers 0-10, yes/mostly/no, "didn't lift", quick check-ins.

Every reader raises `BadAnswer` with a message that says what is expected, so the coach can ask
again without changing anything.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.core.numbers import whole_number
from bot.core.progression import Neutral

MAX_TEXT = 500  # longer than any answer or command we expect


class BadAnswer(ValueError):
    pass


def clean_text(text: str) -> str:
    """Drop control and format characters, collapse spaces; keep letters in any script."""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or unicodedata.category(ch)[0] != "C"
    )
    return " ".join(kept.split())


def read_score(text: str, what: str) -> int:
    value = clean_text(text).lower().removesuffix("/10").strip()
    words = {"zero": 0, "none": 0, "no pain": 0}
    if value in words:
        return words[value]
    number = whole_number(value, max_digits=2)
    if number is None:
        raise BadAnswer(f"Please answer {what} with a whole number from 0 to 10.")
    if number > 10:
        raise BadAnswer(f"{number} is above the scale: {what} goes from 0 to 10.")
    return number


_NEUTRAL = {
    "yes": Neutral.YES,
    "y": Neutral.YES,
    "flat": Neutral.YES,
    "neutral": Neutral.YES,
    "mostly": Neutral.MOSTLY,
    "most": Neutral.MOSTLY,
    "partly": Neutral.MOSTLY,
    "no": Neutral.NO,
    "n": Neutral.NO,
}


def read_neutral(text: str) -> Neutral:
    value = clean_text(text).lower().strip(".!")
    if value not in _NEUTRAL:
        raise BadAnswer("Did your lower back stay neutral on every rep? Answer yes, mostly or no.")
    return _NEUTRAL[value]


NO_LIFT = {"none", "no lift", "didn't lift", "didnt lift", "did not lift", "-", "skip", "n/a"}


def read_comfort(text: str) -> int | None:
    """Deadlift comfort 0-10, or None when the person did not lift."""
    value = clean_text(text).lower().replace("’", "'")
    if value in NO_LIFT:
        return None
    return read_score(value, "deadlift comfort")


def read_yes_no(text: str) -> bool:
    value = clean_text(text).lower().strip(".!")
    if value in {"yes", "y", "yeah", "yep"}:
        return True
    if value in {"no", "n", "nope", "none"}:
        return False
    raise BadAnswer("Please answer yes or no.")


@dataclass(frozen=True, slots=True)
class QuickCheckIn:
    pain_during: int
    neutral: Neutral
    comfort: int | None
    leg_symptoms: bool


def read_quick_checkin(args: str) -> QuickCheckIn:
    """`/checkin 3 yes 7` (pain, neutral back, comfort or "none"), optionally followed by "leg"."""
    words = clean_text(args).lower().split()
    leg = bool(words) and words[-1] == "leg"
    if leg:
        words = words[:-1]
    if len(words) != 3:
        raise BadAnswer(
            "Quick check-in: /checkin PAIN FLAT COMFORT, e.g. /checkin 3 yes 7 "
            "(pain 0-10, back neutral yes/mostly/no, deadlift comfort 0-10 or none). "
            "Add 'leg' at the end if pain, tingling or numbness went down a leg."
        )
    return QuickCheckIn(
        pain_during=read_score(words[0], "pain during the routine"),
        neutral=read_neutral(words[1]),
        comfort=read_comfort(words[2]),
        leg_symptoms=leg,
    )
