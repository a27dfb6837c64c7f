"""`coach reminders due --at …` and `coach reminders status`: operator views of the reminders.

They print person ids, zones, local times, kinds and reasons; never names, chat handles or
health data (a safety hold shows as "paused", like a pause the person asked for).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.config import Settings
from bot.scheduler import preview
from storage import db, outbox


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reminders = sub.add_parser("reminders", help="reminder tools")
    commands = reminders.add_subparsers(dest="reminders_command", required=True)
    due = commands.add_parser("due", help="who a tick at an instant would remind, and why")
    due.add_argument("--at", required=True, help="an instant, e.g. 2027-03-28T01:30:00Z")
    due.add_argument(
        "--window",
        type=float,
        default=None,
        help="seconds before --at whose reminders count (default: one tick, COACH_TICK_SECONDS)",
    )
    commands.add_parser("status", help="outbox messages by state")


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def reminders_main(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if args.reminders_command == "due":
        try:
            at = parse_instant(args.at)
        except ValueError:
            print(f"--at {args.at!r} is not an instant; e.g. 2027-03-28T01:30:00Z", file=out)
            return 2
        window = timedelta(seconds=args.window if args.window else settings.tick_seconds)
        return await due(settings, at, window, out)
    return await status(settings, out)


async def due(settings: Settings, at: datetime, window: timedelta, out: TextIO) -> int:
    engine = db.create_engine(settings.database_url)
    try:
        await db.upgrade(engine)
        found = await preview(db.sessionmaker(engine), at, window)
    finally:
        await engine.dispose()
    sending = sum(1 for item in found if item.decision == "send")
    print(
        f"A tick at {at:%Y-%m-%dT%H:%M:%SZ} (reminders due in the {window.total_seconds():g} s "
        f"before it): {sending} to send, {len(found) - sending} not sent.",
        file=out,
    )
    if found:
        print(
            f"{'person':>8}  {'zone':<24} {'local time':<22} {'kind':<9} decision: reason", file=out
        )
    for item in found:
        local = f"{item.local:%Y-%m-%d %H:%M %Z}"
        print(
            f"{item.person_id:>8}  {item.zone:<24} {local:<22} {item.kind:<9} "
            f"{item.decision}: {item.reason}",
            file=out,
        )
    return 0


async def status(settings: Settings, out: TextIO) -> int:
    engine = db.create_engine(settings.database_url)
    try:
        await db.upgrade(engine)
        async with db.sessionmaker(engine)() as session:
            counts = await outbox.counts(session)
    finally:
        await engine.dispose()
    total = sum(counts.values())
    print(f"outbox: {total} message(s)", file=out)
    for state, count in counts.items():
        print(f"  {state:<12} {count}", file=out)
    return 0
