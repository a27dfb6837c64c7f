"""What a reminder says: today's routine headline, Start / Later / Skip today, the next
morning's question first when it is due; and the JSON a queued message is stored as."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from bot.core import flows
from bot.core.actions import Action
from bot.core.content import Library
from bot.core.messages import Button, Reply
from bot.core.reminder_plan import Kind
from bot.core.texts import phase_headline

FLOW = flows.REMINDER  # Action(FLOW, step, value, person id)
START, LATER, SKIP = "start", "later", "skip"


_BUTTONS = (("Start", START, "1"), ("Later", LATER, "1h"), ("Skip today", SKIP, "today"))


def skip_value(day: date | None) -> str:
    return f"d{day:%Y%m%d}" if day is not None else "today"


@lru_cache(maxsize=64)
def _templates(kind: Kind, day: date | None = None) -> tuple[tuple[str, str], ...]:
    # (label, payload without the person id): Action.encode checks the shape once per kind, and
    # a fan-out only appends each person's id (digits keep it a valid payload, far under 64 B).
    chosen = [b for b in _BUTTONS if not (kind is Kind.EVENING and b[1] == LATER)]
    return tuple(
        (label, Action(FLOW, step, skip_value(day) if step == SKIP else value, 0).encode()[:-1])
        for label, step, value in chosen
    )


def reminder_buttons(person_id: int, kind: Kind, day: date | None = None) -> tuple[Button, ...]:
    """Start / Later / Skip today (the evening nudge has no Later). "Skip today" names the
    local day it was sent for, so pressing it on an old reminder cannot silence a later day."""
    ref = str(int(person_id))
    return tuple(Button(label, prefix + ref) for label, prefix in _templates(kind, day))


_TEXTS: dict[tuple[int, str, int, bool, Kind], tuple[Library, str]] = {}


def reminder_text(
    library: Library, program_id: str, phase_index: int, lighter: bool, kind: Kind
) -> str:
    key = (id(library), program_id, phase_index, lighter, kind)
    cached = _TEXTS.get(key)
    if cached is not None and cached[0] is library:
        return cached[1]
    text = _reminder_text(library, program_id, phase_index, lighter, kind)
    if len(_TEXTS) > 1024:
        _TEXTS.clear()
    _TEXTS[key] = (library, text)
    return text


def _reminder_text(
    library: Library, program_id: str, phase_index: int, lighter: bool, kind: Kind
) -> str:
    phase = library.program_of(program_id).phase_at(phase_index)
    headline = phase_headline(library, phase, lighter)  # the minutes of today's dose
    dose = " Lighter dose today." if lighter else ""
    if kind is Kind.EVENING:
        return f"Still time for today's routine? {headline}.{dose}"
    if kind is Kind.SNOOZE:
        return f"Here's your reminder again. Today: {headline}.{dose}"
    return f"Time for today's routine: {headline}.{dose}"


def reminder_reply(
    library: Library,
    *,
    person_id: int,
    program_id: str,
    phase_index: int,
    lighter: bool,
    kind: Kind,
    morning: Reply | None = None,
    day: date | None = None,
) -> Reply:
    """The reminder message; with `morning` (the next-morning pain question from
    `morning_question.ask_morning`) that question comes first, in the same message."""
    text = reminder_text(library, program_id, phase_index, lighter, kind)
    row = reminder_buttons(person_id, kind, day)
    if morning is None:
        return Reply(text, buttons=(row,), private=True, title="Reminder")
    return Reply(
        f"{morning.text}\n\n{text}",
        buttons=(*morning.buttons, row),
        private=True,
        title="Reminder",
    )


def reminder_payload(
    library: Library,
    *,
    person_id: int,
    program_id: str,
    phase_index: int,
    lighter: bool,
    kind: Kind,
    morning: Reply | None = None,
    day: date | None = None,
) -> dict[str, Any]:
    """`reply_to_json(reminder_reply(...))`, without building the Reply on the common path
    (a fan-out renders many thousands of these)."""
    if morning is not None:
        return reply_to_json(
            reminder_reply(
                library,
                person_id=person_id,
                program_id=program_id,
                phase_index=phase_index,
                lighter=lighter,
                kind=kind,
                morning=morning,
                day=day,
            )
        )
    ref = str(int(person_id))
    return {
        "text": reminder_text(library, program_id, phase_index, lighter, kind),
        "private": True,
        "buttons": [[[label, prefix + ref] for label, prefix in _templates(kind, day)]],
        "title": "Reminder",
    }


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {"text": reply.text, "private": reply.private}
    if reply.buttons:
        data["buttons"] = [[[b.label, b.action] for b in row] for row in reply.buttons]
    if reply.title:
        data["title"] = reply.title
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    buttons = tuple(
        tuple(Button(str(label), str(action)) for label, action in row)
        for row in data.get("buttons", ())
    )
    return Reply(
        str(data["text"]),
        buttons=buttons,
        private=bool(data.get("private", False)),
        title=data.get("title"),
    )
