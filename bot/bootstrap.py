"""Wiring: settings in, a ready coach out (content validated, schema migrated)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.core.clock import Clock, utc_now
from bot.core.content import Library, load_library
from bot.pictures.store import PictureStore
from bot.service.coach import Coach
from storage import db
from storage.unit_of_work import SqlStorage


class DatabaseCoach(Coach):
    """The coach on its database. The scheduler, the health check and tests reach the same
    database through `sessions` and `engine`; the coach itself only through its units of work."""

    def __init__(
        self,
        library: Library,
        storage: SqlStorage,
        *,
        clock: Clock,
        charts_dir: Path,
        pictures: PictureStore | None = None,
    ) -> None:
        super().__init__(library, storage, clock=clock, charts_dir=charts_dir, pictures=pictures)
        self.sessions = storage.sessions
        self.engine = storage.engine


async def build_coach(
    settings: Settings, *, clock: Clock = utc_now, migrate: bool = True
) -> DatabaseCoach:
    """Raises `ContentError` (every problem listed) before touching the database."""
    library = load_library(settings.content_dir)
    engine = db.create_engine(settings.database_url)
    if migrate:
        await db.upgrade(engine)
    storage = SqlStorage(db.sessionmaker(engine))
    return DatabaseCoach(
        library,
        storage,
        clock=clock,
        charts_dir=settings.charts_dir,
        pictures=PictureStore(settings.pictures_dir),  # drawn on first use, kept on disk
    )
