"""`coach`: chat in the terminal, run the bots, check content, upgrade the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.content import ContentError, check_content
from bot.logs import configure_logging, settings_secrets

if TYPE_CHECKING:
    from bot.adapters.contract import Adapter

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coach", description="mobility-coach")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the coach in this terminal")
    chat.add_argument("--user", default=None, help="who you are (default: your login name)")

    sub.add_parser("run", help="serve every platform whose token is set")

    content = sub.add_parser("content", help="content tools")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate a content folder")
    check.add_argument("folder", nargs="?", type=Path, default=None)

    database = sub.add_parser("db", help="database tools")
    database_sub = database.add_subparsers(dest="db_command", required=True)
    database_sub.add_parser("upgrade", help="apply all migrations")

    from bot.reminders_cli import add_parser as add_reminders_parser

    add_reminders_parser(sub)

    discord = sub.add_parser("discord", help="Discord tools")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True)
    discord_sub.add_parser("sync", help="publish the slash commands to Discord now")

    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json, settings_secrets(settings))

    if args.command == "content":
        return content_check(args.folder or settings.content_dir)
    if args.command == "db":
        return asyncio.run(db_upgrade(settings))
    if args.command == "reminders":
        from bot.reminders_cli import reminders_main

        return asyncio.run(reminders_main(settings, args, sys.stdout))
    if args.command == "discord":
        return asyncio.run(discord_sync(settings))
    if args.command == "chat":
        return asyncio.run(chat_main(settings, args.user or _login()))
    if args.command == "run":
        return asyncio.run(run_main(settings))
    return 2


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "me"


def content_check(folder: Path) -> int:
    problems = check_content(folder)
    if not problems:
        print(f"{folder}: content is valid.")
        return 0
    print(f"{folder}: {len(problems)} problem(s):")
    for problem in problems:
        print(f"  {problem}")
    return 1


async def db_upgrade(settings: Settings) -> int:
    from storage import db

    engine = db.create_engine(settings.database_url)
    try:
        await db.upgrade(engine)
        print(f"database at revision {await db.current_revision(engine)}")
    finally:
        await engine.dispose()
    return 0


async def _build(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.bootstrap import build_coach

    try:
        return await build_coach(settings)
    except ContentError as error:
        print(f"The coach cannot start: the content has problems.\n{error}", file=sys.stderr)
        return None


async def chat_main(settings: Settings, user: str) -> int:
    from bot.adapters.console import ConsoleChat, ConsoleSender
    from bot.core.messages import Platform
    from bot.scheduler import ReminderScheduler

    coach = await _build(settings)
    if coach is None:
        return 1
    console = ConsoleChat(coach, user)
    # The console gets its reminders too, printed in the terminal: this process serves only
    # this one console user, so other people's reminders are left to the processes that can
    # reach them.
    reminders = ReminderScheduler(
        coach.sessions,
        coach.library,
        {Platform.CONSOLE: ConsoleSender(console)},
        settings,
        coach.clock,
        only_refs={Platform.CONSOLE: frozenset({user})},
        charts_dir=coach.charts_dir,
    )
    reminders.start()
    try:
        await console.run()
    finally:
        await reminders.shutdown()
        await coach.close()
    return 0


async def discord_sync(settings: Settings) -> int:
    if settings.discord_token is None:
        print("Set COACH_DISCORD_TOKEN to sync the slash commands.", file=sys.stderr)
        return 1
    from bot.adapters.discord import sync_commands

    count = await sync_commands(settings)
    print(f"published {count} slash commands")
    return 0


def _stop_on_signals(stop: asyncio.Event) -> None:
    # `docker stop` sends SIGTERM: finish the current work and shut down cleanly.
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


async def run_main(settings: Settings) -> int:
    from bot.adapters.contract import PLATFORMS

    if not any(enabled(settings) for enabled, _ in PLATFORMS):
        print(
            "No platform token is set (COACH_TELEGRAM_TOKEN, COACH_DISCORD_TOKEN), so there is "
            "nothing to serve. To try the coach locally, run: coach chat",
            file=sys.stderr,
        )
        return 1
    coach = await _build(settings)
    if coach is None:
        return 1
    from bot.adapters.contract import configured
    from bot.heap import settle_after_start
    from bot.http import Health, start_http
    from bot.scheduler import ReminderScheduler
    from bot.service.pictures import warm

    stop = asyncio.Event()
    _stop_on_signals(stop)
    # The first /routine should not wait for its drawings: draw them all now, in the background
    # (worker threads), while the adapters connect.
    warming = (
        None if coach.pictures is None else asyncio.create_task(warm(coach.pictures, coach.library))
    )
    health = Health()
    http = None
    adapters: list[Adapter] = []
    reminders: ReminderScheduler | None = None
    try:
        adapters = configured(settings, coach, coach.library)
        for adapter in adapters:
            health.add_check(f"adapters.{adapter.platform.value}", adapter.healthy)
        # Reminders go out through each platform's sender; the tick starts once every adapter
        # has started (a sender whose platform is still connecting answers "try again").
        reminders = ReminderScheduler(
            coach.sessions,
            coach.library,
            {adapter.platform: adapter.sender for adapter in adapters},
            settings,
            coach.clock,
            charts_dir=coach.charts_dir,
        )
        health.add_check("scheduler.tick", reminders.ticking)
        if settings.http_port is not None and coach.engine is not None:
            http = await start_http(settings.http_port, coach.engine, health)
        for adapter in adapters:  # one after the other: a failed start stops the rest cleanly
            await adapter.start()
        settle_after_start()
        reminders.start()
        await _until_stopped(stop, adapters)
    finally:
        stop.set()
        if warming is not None:
            warming.cancel()
        if reminders is not None:
            await reminders.shutdown()
        await asyncio.gather(*(adapter.stop() for adapter in adapters), return_exceptions=True)
        if http is not None:
            await http.cleanup()
        await coach.close()
    return 0


async def _until_stopped(stop: asyncio.Event, adapters: Sequence[Adapter]) -> None:
    """Until a signal, or an adapter stops by itself (its failure is raised)."""
    waits: list[asyncio.Task[object]] = [asyncio.create_task(stop.wait())]
    waits += [asyncio.create_task(adapter.stopped()) for adapter in adapters]
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in waits:
            task.cancel()
