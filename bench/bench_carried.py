"""The writes `storage.carried` carries on PostgreSQL, against the ORM's flush, in one process:
the `bench_load` daily loop (`/routine`, the morning answer, `/checkin 2 yes 7`) with the writes
carried by the decision's read and by the last statement ("both"), by the read only, by neither
(the session flushed as before), and the bare transaction, in turn for `--rounds` rounds of
`--block` seconds each (this machine's speed drifts over seconds: blocks side by side see the
same machine). Printed per mode: the median CPU time and wall time per message, and the wall
time against the bare transaction's of the same round (median and quartiles).

    .venv/bin/python bench/bench_carried.py [--rounds 16] [--block 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_load  # noqa: E402
from scratch_database import postgres_database  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker  # noqa: E402

from bot.bootstrap import build_coach  # noqa: E402
from bot.config import SOURCE_CONTENT, Settings  # noqa: E402
from storage import carried  # noqa: E402

CARRIED = carried.unwritten
MODES = ("both", "the read only", "neither")


def carrying(mode: str) -> Callable[..., Any]:
    """`carried.unwritten` as the mode has it: None (flush) where the mode carries nothing."""

    def unwritten(session: Any, person_id: int | None, *, reading: bool) -> Any:
        if mode == "neither" or (mode == "the read only" and not reading):
            return None
        return CARRIED(session, person_id, reading=reading)

    return unwritten


async def block(step: Callable[[], Awaitable[int]], seconds: float) -> tuple[float, float]:
    """CPU and wall seconds per message (or transaction) over one block."""
    done, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        done += await step()
    return (time.process_time() - cpu) / done, (time.perf_counter() - wall) / done


async def main(rounds: int, seconds: float) -> None:
    async with postgres_database() as url:
        settings = Settings(database_url=url, content_dir=SOURCE_CONTENT)
        coach = await build_coach(settings, clock=bench_load.clock)
        people = [bench_load.Person(f"p{i}") for i in range(20)]
        await asyncio.gather(*(bench_load.onboard(coach.handle, p) for p in people))
        engine = bench_load.bare_engine(url)
        await bench_load.bare_setup(engine, 1)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bench_load.settle_after_start()

        async def day() -> int:
            samples: bench_load.Samples = []
            person = min(people, key=lambda p: p.day)
            await bench_load.one_day(coach.handle, person, samples)
            return len(samples)

        async def bare() -> int:
            await bench_load.bare_loop_once(sessions)
            return 1

        try:
            await block(day, 2.0)  # warm-up
            found: dict[str, list[tuple[float, float]]] = {m: [] for m in (*MODES, "bare")}
            for _ in range(rounds):
                for mode in MODES:
                    carried.unwritten = carrying(mode)
                    found[mode].append(await block(day, seconds))
                found["bare"].append(await block(bare, seconds))
        finally:
            carried.unwritten = CARRIED
            await coach.close()
            await engine.dispose()
    print(f"PostgreSQL, {rounds} rounds of {seconds:g} s per mode (medians)")
    for mode, runs in found.items():
        walls = [run[1] / bare_run[1] for run, bare_run in zip(runs, found["bare"], strict=True)]
        quartiles = statistics.quantiles(walls, n=4)
        print(
            f"  {mode:<14} CPU/message {statistics.median(r[0] for r in runs) * 1e3:6.2f} ms  "
            f"wall/message {statistics.median(r[1] for r in runs) * 1e3:6.2f} ms  "
            f"wall/bare {statistics.median(walls):.2f}x ({quartiles[0]:.2f}-{quartiles[2]:.2f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--block", type=float, default=0.4, help="seconds per mode and round")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.block))
