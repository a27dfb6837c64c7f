"""What a team channel gets: the daily post with "Start my routine" and the weekly digest.

Nothing here is about anyone's health: the post names the routine, the digest counts members
who trained and the team's adherence (planned days done), and names only people who opted in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.actions import Action
from bot.core.adherence import adherence
from bot.core.content import Library
from bot.core.messages import Button, Reply
from bot.core.names import public_name
from bot.core.texts import phase_headline
from bot.service import reminder_message
from bot.service.team import DIGEST_DAYS, FLOW, GENERIC_HEADLINE, START
from storage.teams import MemberWeek


def post_reply(library: Library, team_id: int) -> Reply:
    """The daily team post: the routine headline and "Start my routine" (anyone may press)."""
    program = library.default_program()
    headline = phase_headline(library, program.phases[0]) if program.phases else GENERIC_HEADLINE
    start = Action(FLOW, START, "go", team_id).encode()
    return Reply(
        f"Today's routine: {headline}.\n"
        "Press the button for your own plan (it follows your phase), sent to you privately.",
        buttons=((Button("Start my routine", start),),),
        title="Team routine",
    )


def post_payload(library: Library, team_id: int) -> dict[str, Any]:
    return reminder_message.reply_to_json(post_reply(library, team_id))


def week_of(digest_day: date) -> tuple[date, date]:
    """The seven local days a digest sent on `digest_day` covers: the week before it."""
    return digest_day - timedelta(days=DIGEST_DAYS), digest_day - timedelta(days=1)


def _planned(week: MemberWeek, first: date, last: date) -> tuple[int, int]:
    """(planned days done, planned days) in the week for one member."""
    if week.resting:
        return 0, 0
    zone = ZoneInfo(week.timezone or "UTC")
    start = max(week.created_at.astimezone(zone).date(), week.joined_on.astimezone(zone).date())
    window = (last - first).days + 1
    return adherence(set(week.trained_days), last, max(first, start), week.remind_days, window)


def digest_text(weeks: Sequence[MemberWeek], first: date, last: date) -> str:
    """Counts, a percentage and opted-in names only: nothing about anyone's health."""
    span = f"{first:%a %d %b} - {last:%a %d %b}"
    if not weeks:
        return (
            f'Weekly team digest ({span}): nobody has joined yet. Press "Start my routine" '
            "under a daily post to join."
        )
    trained = [w for w in weeks if w.trained_days]
    done = planned = 0
    for week in weeks:
        d, p = _planned(week, first, last)
        done += d
        planned += p
    lines = [
        f"Weekly team digest ({span}): {len(trained)} of {len(weeks)} "
        f"{'member' if len(weeks) == 1 else 'members'} trained this week."
    ]
    if planned:
        lines.append(f"Team adherence: {round(100 * done / planned)}% of planned days done.")
    names = [name for w in trained if w.share_name and (name := public_name(w.name))]
    if names:
        lines.append("Trained this week: " + ", ".join(names) + ".")
    lines.append("Keep it up, one routine at a time.")
    return "\n".join(lines)


def digest_payload(weeks: Sequence[MemberWeek], first: date, last: date) -> dict[str, Any]:
    return reminder_message.reply_to_json(
        Reply(digest_text(weeks, first, last), title="Team digest")
    )
