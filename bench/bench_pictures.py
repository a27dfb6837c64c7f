"""Exercise pictures: render time per exercise cold (drawn) and cached (the path handed back),
and the baseline of the same run: reading the cached file's bytes, which an adapter does anyway
to upload it.

Then what the person sees: `/routine` through the Telegram adapter against the loopback fake
(tests/e2e/fake_telegram.py), the real coach on SQLite with a warm picture cache, two bots
polling the same fake and asked in turn: one sends the album then the text, the other (the
baseline, pictures off) the text only. Timed from the update injected to the call reaching the
fake: the album, and the routine's text.

    .venv/bin/python bench/bench_pictures.py [--rounds N] [--sends N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# The script's own folder is on the path: bench_telegram's helpers (it puts the repository
# root on the path for the fake).
from bench_telegram import onboarded_coach, serving, settings_for, summary

from bot.config import default_content_dir
from bot.core.content import load_library
from bot.pictures.store import PictureStore
from bot.service import pictures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.4g} ms"


async def main(rounds: int) -> None:
    library = load_library(default_content_dir())
    with tempfile.TemporaryDirectory() as folder:
        store = PictureStore(Path(folder))
        print(f"{'exercise':32} {'still cold':>11} {'GIF cold':>10} {'still cached':>13}")
        cached_all: list[float] = []
        read_all: list[float] = []
        for exercise in library.exercises.values():
            start = time.perf_counter()
            path = await store.still(exercise)
            still_cold = time.perf_counter() - start
            start = time.perf_counter()
            await store.animation(exercise)
            gif_cold = time.perf_counter() - start
            cached = []
            for _ in range(rounds):
                start = time.perf_counter()
                await store.still(exercise)
                cached.append(time.perf_counter() - start)
            reads = []
            for _ in range(rounds):
                start = time.perf_counter()
                path.read_bytes()
                reads.append(time.perf_counter() - start)
            cached_all += cached
            read_all += reads
            print(
                f"{exercise.id:32} {_ms(still_cold):>11} {_ms(gif_cold):>10} "
                f"{_ms(statistics.median(cached)):>13}"
            )
        renders = store.renders
        phase = library.default_program().phases[1]
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            await pictures.for_routine(store, library, phase)
            times.append(time.perf_counter() - start)
        assert store.renders == renders  # warm: nothing drawn again
        print(f"\ncached still, median of {len(cached_all)}: {_ms(statistics.median(cached_all))}")
        print(f"baseline, reading the cached PNG's bytes: {_ms(statistics.median(read_all))}")
        print(
            f"a warm routine album ({len(phase.routine)} stills), median: "
            f"{_ms(statistics.median(times))}; renders during it: {store.renders - renders}"
        )


ALBUM, TEXT = "5:ALBUM", "6:TEXT"
PERSON = 424_242  # bench_telegram's onboarded person


async def one_routine(fake: Any, token: str) -> tuple[float | None, float]:
    """Inject /routine for `token`'s bot: seconds until its album and its text reached the fake."""
    mark = fake.mark()
    update = fake.message(PERSON, "/routine")
    started = time.perf_counter()  # the fake stamps calls with the same clock
    fake.inject_update(update, token=token)
    text = await fake.wait_for(
        "sendMessage", lambda p: "Phase" in p.get("text", ""), since=mark, timeout=30
    )
    assert text.token == token, (text.token, token)
    albums = fake.calls_to("sendMediaGroup", since=mark)
    album = albums[0].at - started if albums else None
    del fake.calls[mark:]  # keep the call log short: a long log slows wait_for's scan
    return album, text.at - started


async def sending(sends: int, warmup: int) -> None:
    from bench_telegram import FakeTelegram

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegram() as fake:
            for token in (ALBUM, TEXT):
                fake.add_bot(token)
            with_pictures = settings_for(fake, ALBUM, Path(folder) / "album.sqlite3")
            with_pictures = with_pictures.model_copy(
                update={"pictures_dir": Path(folder) / "pictures"}
            )
            text_only = settings_for(fake, TEXT, Path(folder) / "text.sqlite3")
            album_coach = await onboarded_coach(with_pictures)
            text_coach = await onboarded_coach(text_only)
            text_coach.pictures = None  # the baseline: the same coach without pictures
            assert album_coach.pictures is not None
            drawn = await pictures.warm(album_coach.pictures, album_coach.library)
            renders = album_coach.pictures.renders
            albums: list[float] = []
            times: dict[str, list[float]] = {ALBUM: [], TEXT: []}
            try:
                async with (
                    serving(with_pictures, album_coach, rate_limit=False),
                    serving(text_only, text_coach, rate_limit=False),
                ):
                    for i in range(warmup + sends):
                        for token in (ALBUM, TEXT):
                            album, text = await one_routine(fake, token)
                            assert (album is not None) == (token == ALBUM)
                            if i >= warmup:
                                times[token].append(text)
                                if album is not None:
                                    albums.append(album)
            finally:
                await album_coach.close()
                await text_coach.close()
            assert album_coach.pictures.renders == renders  # warm: nothing drawn while sending

    print(
        f"\n/routine through the Telegram adapter (loopback fake, real coach on SQLite, "
        f"warm cache: {drawn} pictures drawn before, none while sending)"
    )
    summary("album (4 stills) seen", albums)
    _, with_p99 = summary("routine text, after the album", times[ALBUM])
    _, base_p99 = summary("baseline: routine text, no pictures", times[TEXT])
    with_p50 = statistics.median(times[ALBUM])
    base_p50 = statistics.median(times[TEXT])
    print(f"  p50 ratio text after album / text only: {with_p50 / base_p50:5.2f}x")
    print(f"  p99 ratio text after album / text only: {with_p99 / base_p99:5.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--sends", type=int, default=300, help="measured /routine per bot")
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.rounds))
    asyncio.run(sending(args.sends, args.warmup))
