"""The exercise pictures a reply carries: for /exercise NAME, for today's routine and for an
"avoid" entry (the adapters send `Reply.pictures`), and the cache warmed at start."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.core.content import Avoid, Exercise, Library, Phase
from bot.core.messages import Picture
from bot.logs import failure
from bot.pictures.describe import animation_alt, avoid_alt, still_alt
from bot.pictures.store import PictureStore

log = logging.getLogger(__name__)

# Telegram's media group and Discord's attachments both take at most 10 files.
ALBUM_LIMIT = 10


async def for_exercise(store: PictureStore, exercise: Exercise) -> tuple[Picture, ...]:
    """The still, then the animation."""
    still = await store.still(exercise)
    animation = await store.animation(exercise)
    return (
        Picture(still, still_alt(exercise), "still"),
        Picture(animation, animation_alt(exercise), "animation"),
    )


async def for_routine(store: PictureStore, library: Library, phase: Phase) -> tuple[Picture, ...]:
    """One still per exercise of the phase, in routine order (an album)."""
    pictures: list[Picture] = []
    for item in phase.routine[:ALBUM_LIMIT]:
        exercise = library.exercise(item.exercise)
        pictures.append(Picture(await store.still(exercise), still_alt(exercise), "still"))
    return tuple(pictures)


async def for_avoid(store: PictureStore, library: Library, entry: Avoid) -> tuple[Picture, ...]:
    """The wrong movement crossed out beside the exercise that replaces it; none when the entry
    has no figure."""
    if entry.figure is None or entry.figure_beside is None:
        return ()
    instead = library.exercise(entry.figure_beside)
    path = await store.avoid(entry, instead)
    return (Picture(path, avoid_alt(entry, instead), "still"),)


async def or_none(making: Awaitable[tuple[Picture, ...]]) -> tuple[Picture, ...]:
    """The pictures, or none when drawing failed (a full disk, a broken renderer): the person
    gets the text, which says everything the pictures show."""
    try:
        return await making
    except Exception as exc:
        log.error("pictures: drawing failed, sending text only: %s", failure(exc))
        return ()


async def warm(store: PictureStore, library: Library) -> int:
    """Draws every picture the coach can send that is not on disk yet, one after the other
    (each in a worker thread, so the event loop keeps serving); returns how many were drawn."""
    before = store.renders
    for exercise in library.exercises.values():
        await or_none(for_exercise(store, exercise))
    for entry in library.avoid:
        await or_none(for_avoid(store, library, entry))
    drawn = store.renders - before
    log.info("pictures: cache warm (%d drawn)", drawn)
    return drawn
