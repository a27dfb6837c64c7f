"""Exercise pictures: render time per exercise cold (drawn) and cached (the path handed back),
and the baseline of the same run: reading the cached file's bytes, which an adapter does anyway
to upload it.

    .venv/bin/python bench/bench_pictures.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1000)
    asyncio.run(main(parser.parse_args().rounds))
