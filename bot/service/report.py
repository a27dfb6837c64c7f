"""/report: the person's one-page report from their stored rows, drawn as a PDF and a PNG."""

from __future__ import annotations

from pathlib import Path

from bot.core.messages import Reply
from bot.reports.build import build_report
from bot.reports.page import render_report_async
from bot.service.turn import Turn


async def replies(turn: Turn, folder: Path) -> list[Reply]:
    """The page as a picture for the chat and as a PDF to share; both private, both to keep
    (sent to the person's private chat, never shown in a group)."""
    person = turn.person
    uow = turn.uow
    program = turn.program
    data = build_report(
        person=person,
        program=program.name,
        phase_names=[phase.name for phase in program.phases],
        zone=turn.zone,
        today=turn.today,
        checkins=await uow.checkins.completed(person.id),
        decisions=await uow.checkins.decisions(person.id),
        pauses=await uow.checkins.pauses(person.id),
        activities=await uow.outcomes.activities(person.id),
        reassessments=await uow.outcomes.reassessments(person.id),
        rules=turn.library.outcomes.meaningful_change,
    )
    files = await render_report_async(data, folder, person.id)
    return [
        turn.private(
            "Your progress report, one page.", image=files.png, title="Your report", keep=True
        ),
        turn.private(
            "The same page as a PDF, to show your physiotherapist or doctor. It is not a "
            "diagnosis; it shows what you reported.",
            document=files.pdf,
            keep=True,
        ),
    ]
