"""Discord adapter latency: INTERACTION_CREATE in → interaction callback seen at the fake.

Two clients run in one process against the same loopback fake (tests/e2e/fake_discord.py):

- ours: `build_client` (the adapter) with the real coach on a fresh SQLite file when
  `bot.bootstrap` can build one, else a stub coach; the command is /help in a server;
- bare: a plain discord.py `Client` + `CommandTree` whose /help answers with
  `interaction.response.send_message` (the library's floor for the same path).

Interactions alternate (ours, bare, ours, ...) one at a time, so both see the same machine state.
For ours the time to the reply itself (the follow-up, after the coach) is printed too.

    .venv/bin/python bench/bench_discord.py [-n 1000] [--warmup 100] [--stub-coach]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord import app_commands  # noqa: E402

from bot.adapters.discord import build_client  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.messages import Incoming, Platform, Reply  # noqa: E402
from tests.e2e.fake_discord import Call, FakeDiscord, Person  # noqa: E402

OURS = "bench-ours"
BARE = "bench-bare"
GUILD = 515_000
PEOPLE = [Person(700_000 + n, f"p{n}") for n in range(20)]


class StubCoach:
    async def handle(self, incoming: Incoming) -> list[Reply]:
        return [Reply("Here is what I can do: /routine, /checkin, /remind.")]

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


@contextlib.asynccontextmanager
async def coach_for(settings: Settings, stub: bool) -> AsyncIterator[tuple[Any, str]]:
    if stub:
        yield StubCoach(), "stub coach (adapter alone)"
        return
    try:
        from bot.bootstrap import build_coach
    except ImportError:
        yield StubCoach(), "stub coach (bot.bootstrap not importable)"
        return
    coach = await build_coach(settings)
    try:
        yield coach, "real coach on SQLite"
    finally:
        await coach.close()


def bare_client() -> discord.Client:
    client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0)
    tree = app_commands.CommandTree(client)

    @tree.command(name="help", description="What the coach can do")
    async def help_command(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Here is what I can do.", ephemeral=True)

    return client


async def connect(client: discord.Client, token: str) -> asyncio.Task[None]:
    await client.login(token)
    task = asyncio.create_task(client.connect(reconnect=False))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    if ready not in done:
        raise RuntimeError("client not ready")
    return task


async def one(
    fake: FakeDiscord, token: str, who: Person, until: Callable[[Call], bool] | None = None
) -> tuple[float, float | None]:
    """Seconds from dispatch to the callback (and to a later call matching `until`)."""
    since = fake.mark()
    interaction = await fake.send_interaction(
        fake.slash_payload("help", user=who, guild_id=GUILD, bot_token=token), token
    )
    seen = await fake.wait_for(
        lambda c: c.token == interaction.token and c.route == "callback", since=since
    )
    later = None
    if until is not None:
        done = await fake.wait_for(lambda c: c.token == interaction.token and until(c), since=since)
        later = done.at - interaction.sent_at
    return seen.at - interaction.sent_at, later


def summary(name: str, samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(f"  {name:<48} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   (n={len(samples)})")
    return p50, p99


async def main(n: int, warmup: int, stub: bool) -> None:
    logging.disable(logging.WARNING)
    fake = FakeDiscord()
    await fake.start()
    with fake.patch(), tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", discord_token=OURS
        )
        async with coach_for(settings, stub) as (coach, coach_name):
            ours = build_client(
                settings,
                coach,
                guild_ready_timeout=0,
                sync_state_path=Path(tmp) / "sync.json",
            )
            bare = bare_client()
            async with ours, bare:
                ours_task = await connect(ours, OURS)
                bare_task = await connect(bare, BARE)
                replied = lambda c: c.route == "followup" and c.status == 200  # noqa: E731

                ours_cb: list[float] = []
                ours_reply: list[float] = []
                bare_cb: list[float] = []
                started = time.perf_counter()
                for i in range(warmup + n):
                    who = PEOPLE[i % len(PEOPLE)]
                    callback, reply = await one(fake, OURS, who, replied)
                    bare_callback, _ = await one(fake, BARE, who)
                    if i >= warmup:
                        ours_cb.append(callback)
                        assert reply is not None
                        ours_reply.append(reply)
                        bare_cb.append(bare_callback)
                    if i % 200 == 199:
                        fake.forget()
                elapsed = time.perf_counter() - started

                print(f"Discord interaction latency on loopback, {coach_name}, /help in a server")
                print(f"python {sys.version.split()[0]}, discord.py {discord.__version__}")
                _, ours_p99 = summary("ours: interaction in → callback (defer) seen", ours_cb)
                _, bare_p99 = summary("bare discord.py: in → callback seen", bare_cb)
                summary("ours: interaction in → reply (follow-up) seen", ours_reply)
                print(f"  p99 ratio ours/bare (callback): {ours_p99 / bare_p99:.2f}")
                print(f"  wall time {elapsed:.1f} s for {2 * (n + warmup)} interactions")

                await ours.close()
                await bare.close()
                await ours_task
                await bare_task
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="measured interactions per client")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--stub-coach", action="store_true", help="a canned reply instead of the real coach"
    )
    args = parser.parse_args()
    if args.n < 1000:
        print("note: fewer than 1,000 interactions; p99 is noisy", file=sys.stderr)
    asyncio.run(main(args.n, args.warmup, args.stub_coach))
