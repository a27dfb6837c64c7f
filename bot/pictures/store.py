"""Pictures rendered once per content version and kept on disk.

The file name carries a hash of everything the drawing depends on (the figure's data, the
names written on it, the renderer version), so an edited pose gets a new file and an unchanged
one is never drawn again, across restarts too. Drawing runs in a worker thread; a lock per
picture makes two requests for the same missing picture draw it once. Files are written to a
temporary name and renamed, so a reader never sees half a picture.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from bot.core.content import Avoid, Exercise
from bot.pictures import style
from bot.pictures.render import render_animation, render_avoid, render_still

# Exercise drawings hold no personal data: a plain cache folder.
DEFAULT_PICTURES = Path(user_cache_dir("mobility-coach", appauthor=False)) / "pictures"

Render = Callable[[Path], Path]


def picture_key(kind: str, *parts: Any) -> str:
    """A stable hash of the renderer version, the picture's kind and the content drawn."""
    data = json.dumps([style.RENDERER_VERSION, kind, *parts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:20]


def _exercise_parts(exercise: Exercise) -> list[Any]:
    return [exercise.id, exercise.name, exercise.figure.model_dump(mode="json")]


class PictureStore:
    """Exercise pictures in `folder`, drawn on first use. `renders` counts drawings made (the
    cache's misses), for tests and the benchmark."""

    def __init__(self, folder: Path = DEFAULT_PICTURES) -> None:
        self.folder = folder
        self.renders = 0
        self._count = threading.Lock()  # renders run in worker threads
        self._locks: dict[str, asyncio.Lock] = {}
        self._ready: set[Path] = set()
        # An exercise's file names, worked out once per loaded exercise (the hash costs more
        # than a routine's other work; a library is frozen, a reload brings new objects).
        self._names: dict[tuple[str, int], tuple[Exercise, Path]] = {}

    # --- where each picture lives ---------------------------------------------------------

    def still_path(self, exercise: Exercise) -> Path:
        return self._named("still", "png", exercise)

    def animation_path(self, exercise: Exercise) -> Path:
        return self._named("animation", "gif", exercise)

    def _named(self, kind: str, suffix: str, exercise: Exercise) -> Path:
        known = self._names.get((kind, id(exercise)))
        if known is not None and known[0] is exercise:
            return known[1]
        key = picture_key(kind, *_exercise_parts(exercise))
        path = self.folder / f"{exercise.id}-{key}.{suffix}"
        self._names[(kind, id(exercise))] = (exercise, path)  # holds it: the id stays its own
        return path

    def avoid_path(self, entry: Avoid, instead: Exercise) -> Path:
        figure = None if entry.figure is None else entry.figure.model_dump(mode="json")
        key = picture_key("avoid", entry.id, entry.name, figure, *_exercise_parts(instead))
        return self.folder / f"{entry.id}-{key}.png"

    # --- drawn on first use ---------------------------------------------------------------

    async def still(self, exercise: Exercise) -> Path:
        return await self._get(self.still_path(exercise), lambda out: render_still(exercise, out))

    async def animation(self, exercise: Exercise) -> Path:
        path = self.animation_path(exercise)
        return await self._get(path, lambda out: render_animation(exercise, out))

    async def avoid(self, entry: Avoid, instead: Exercise) -> Path:
        path = self.avoid_path(entry, instead)
        return await self._get(path, lambda out: render_avoid(entry, instead, out))

    def still_now(self, exercise: Exercise) -> Path:
        """`still` without the event loop (scripts, the benchmark)."""
        return self._make(self.still_path(exercise), lambda out: render_still(exercise, out))

    def animation_now(self, exercise: Exercise) -> Path:
        path = self.animation_path(exercise)
        return self._make(path, lambda out: render_animation(exercise, out))

    async def _get(self, path: Path, render: Render) -> Path:
        # A picture known to be on disk costs a set look-up: no file system call on the loop.
        if path in self._ready:
            return path
        lock = self._locks.setdefault(path.name, asyncio.Lock())
        async with lock:
            if path not in self._ready:  # else drawn by the request that held the lock first
                await asyncio.to_thread(self._make, path, render)
                self._ready.add(path)
        return path

    def _make(self, path: Path, render: Render) -> Path:
        if path.is_file():  # drawn before, maybe by an earlier run
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".draw-", suffix=path.suffix)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            render(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._count:
            self.renders += 1
        return path
