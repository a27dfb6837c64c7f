"""The PostgreSQL pool's order of service (`storage.fifo_pool`) against SQLAlchemy's own queue,
in one process: two coaches on the same database, one on each pool, each with K people (default
50, on 20 connections) looping the `bench_load` day (`/routine`, the morning answer,
`/checkin 2 yes 7`), in turn for `--rounds` blocks of `--block` seconds (this machine's speed
drifts over seconds: blocks side by side see the same machine). Printed per pool: the median
rate and p50/p99/mean latency per message over the rounds, the fewest and the median days a
person got through (a person kept waiting sends few messages, so per-message percentiles hide
them; the mean does not, by Little's law), and the FIFO/stock rate ratio per round (median and
quartiles).

    .venv/bin/python bench/bench_pool.py [--k 50] [--rounds 10] [--block 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_load  # noqa: E402
from scratch_database import postgres_database  # noqa: E402
from sqlalchemy.pool import AsyncAdaptedQueuePool  # noqa: E402

from bot.bootstrap import build_coach  # noqa: E402
from bot.config import SOURCE_CONTENT, Settings  # noqa: E402
from bot.heap import settle_after_start  # noqa: E402
from storage import db  # noqa: E402

POOLS = ("first come, first served", "SQLAlchemy's queue")


async def main(args: argparse.Namespace) -> None:
    k = args.k
    print(
        f"bench_pool: K={k} people per pool on {db.POOL_SIZE} connections, {args.rounds} rounds "
        f"of {args.block:g} s per pool (after 0.25 s warm-up each)"
    )
    async with postgres_database() as url:
        settings = Settings(database_url=url, content_dir=SOURCE_CONTENT)
        fifo = await build_coach(settings, clock=bench_load.clock)
        with mock.patch.object(db, "FifoQueuePool", AsyncAdaptedQueuePool):
            stock = await build_coach(settings, clock=bench_load.clock, migrate=False)
        coaches = {POOLS[0]: fifo, POOLS[1]: stock}
        people = {
            name: [bench_load.Person(f"{index}-p{i}") for i in range(k)]
            for index, name in enumerate(POOLS)
        }
        try:
            for name, coach in coaches.items():
                for batch in range(0, k, 20):
                    await asyncio.gather(
                        *(bench_load.onboard(coach.handle, p) for p in people[name][batch:][:20])
                    )
            settle_after_start()

            # Days each person got through, all rounds together: a person the pool keeps
            # waiting gets few, and sends few messages, so per-message percentiles hide them.
            days = {name: [0] * k for name in POOLS}

            def loop(name: str) -> Callable[[int, bench_load.Samples], Awaitable[None]]:
                async def one(worker: int, samples: bench_load.Samples) -> None:
                    await bench_load.one_day(coaches[name].handle, people[name][worker], samples)
                    days[name][worker] += 1

                return one

            results: dict[str, list[bench_load.Result]] = {name: [] for name in POOLS}
            for _ in range(args.rounds):
                for name in POOLS:
                    results[name].append(await bench_load.run_load(k, loop(name), 0.25, args.block))
            for name in POOLS:
                runs = results[name]
                print(
                    f"  {name:<26} msg/s {statistics.median(r.rate for r in runs):6.0f}   "
                    f"p50 {statistics.median(r.p50 for r in runs) * 1e3:6.1f} ms   "
                    f"p99 {statistics.median(r.p99 for r in runs) * 1e3:6.1f} ms   "
                    f"mean {statistics.median(r.mean for r in runs) * 1e3:6.1f} ms   "
                    f"days per person: fewest {min(days[name])}, "
                    f"median {statistics.median(days[name]):.0f}"
                )
            ratios = [a.rate / b.rate for a, b in zip(*results.values(), strict=True)]
            quartiles = statistics.quantiles(ratios, n=4)
            print(
                f"  rate first come, first served / SQLAlchemy's queue: "
                f"{statistics.median(ratios):.2f}x ({quartiles[0]:.2f}-{quartiles[2]:.2f})"
            )
        finally:
            for coach in coaches.values():
                await coach.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--block", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
