"""A person's data: `/privacy`, `/export` and `/delete` (with its confirmation)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core import flows
from bot.core.messages import Reply
from bot.core.texts import PRIVACY, choice_buttons
from bot.reports.page import delete_reports
from bot.service import progress
from bot.service.turn import Turn


async def privacy(turn: Turn, args: str) -> list[Reply]:
    return [Reply(PRIVACY)]


async def export(turn: Turn, args: str) -> list[Reply]:
    return [turn.private(await progress.export(turn), title="Your data")]


async def delete(turn: Turn, args: str) -> list[Reply]:
    turn.ask(flows.DELETE, "confirm", turn.person.id)
    return [
        turn.private(
            "This deletes everything I know about you: answers, progress and settings. "
            "It cannot be undone. Type DELETE or press the button to confirm.",
            buttons=choice_buttons(
                flows.DELETE,
                "confirm",
                turn.person.id,
                [("Delete everything", "yes"), ("Keep", "no")],
            ),
        )
    ]


async def confirm_delete(turn: Turn, value: str, pressed: bool, charts_dir: Path) -> list[Reply]:
    turn.clear_pending()
    # A press of "Delete everything" or the typed word DELETE; anything else keeps the data.
    if value != "DELETE" and not (pressed and value == "yes"):
        return [turn.private("Kept. Nothing was deleted.", edit=True)]
    person_id = turn.person.id
    await turn.uow.people.delete(person_id)
    await asyncio.to_thread(progress.delete_charts, charts_dir, person_id)
    await asyncio.to_thread(delete_reports, charts_dir, person_id)
    return [turn.private("Done: everything about you is deleted. /start begins afresh.")]
