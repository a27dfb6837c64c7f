"""Wiring: settings in, a ready coach out (content validated, schema migrated)."""

from __future__ import annotations

from bot.config import Settings
from bot.core.clock import Clock, utc_now
from bot.core.content import load_library
from bot.service.coach import Coach
from storage import db


async def build_coach(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Coach:
    """Raises `ContentError` (every problem listed) before touching the database."""
    library = load_library(settings.content_dir)
    engine = db.create_engine(settings.database_url)
    if migrate:
        await db.upgrade(engine)
    return Coach(library, db.sessionmaker(engine), engine=engine, clock=clock)
