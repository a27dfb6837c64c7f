"""Capacity under concurrent people: the coach against a bare async SQLAlchemy transaction.

K people at once (K = 1, 10, 50, 200) each loop through a day: `/routine`, the morning answer
when the coach asks it first, then a quick check-in `/checkin 2 yes 7`, all through the public
`Coach.handle(Incoming)`. Every loop is a new day for that person (each person has their own
fake clock, read through a context variable, so people do not wait for each other). Beside it,
with the same K and in the same run, a bare async SQLAlchemy transaction loop on the same
database: read a row, update it, commit, on a stock engine (SQLite: aiosqlite's worker thread),
and the same loop on the coach's own engine (`storage.db.create_engine`: on SQLite the inline
connection of `storage.sqlite_inline`). Printed per database and K: messages/s, p50/p99
latency per message, the ratios coach/bare and coach/same-engine, and the cost of one message
against one bare transaction at K = 1. Then statements and round trips per message type
(SQLite: aiosqlite thread hops; PostgreSQL: writes to the server socket) for `/routine`, button
answers and a quick check-in.

The coach side above is one process (one event loop). With `--processes N` (N > 1) the same K
loops also run as N replica processes (spawned, each its own `build_coach` on the same
database, warmed by a person of its own): loop w, with its people w, w+K, ..., runs in replica
w mod N (so at K = 1 only one replica has people). The parent (which onboarded everyone) sends
each replica its people's clocks and one wall-clock start time; every replica measures the same
window and sends back its latencies, and the parent sums the rates and merges the samples
(extra columns "coach xN": msg/s, p50/p99 over all messages, ratios to bare and to the one
process). Replicas count what the other columns would stop at: days that failed (by error) and,
on SQLite, statements that waited for another process's write lock in `storage.sqlite_inline`
(retries, time waited) and BUSY errors raised; one line per K, warm-up included.

At the K of `--interleave-at` (default 50) the coach/bare rate is measured again from blocks of
each taken in turn (the machine's speed drifts over seconds). At the K of `--offered-at`
(default 50) an open loop follows: K people on their own random schedules, each one message at
a time, offer each share of the bare closed-loop rate (`--offered`) to the coach and to the
bare loop, in `--offered-rounds` (4) rounds of short blocks taken in turn, each at that share of
the bare rate measured just before it, until neither keeps its median p99 under `--slo-ms`
(100): printed, the highest share each kept within it. (In the closed loop K
people wait on each other: p99 there is mostly queueing, K / rate by Little's law, whoever
answers.)

    .venv/bin/python bench/bench_load.py [--quick] [--seconds 6] [--ks 1,10,50,200]
        [--databases sqlite,postgres] [--show-sql] [--processes N] [--interleave-at 50]
        [--interleave-rounds 8] [--offered 0.2,0.3,...] [--offered-at 50] [--slo-ms 100]

Runs on SQLite (a temporary file) and PostgreSQL at 127.0.0.1:5432 (a fresh database, dropped
afterwards; COACH_TEST_POSTGRES_DSN overrides the admin DSN as in the tests).
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.selector_events
import multiprocessing
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiosqlite.core  # noqa: E402
import greenlet  # noqa: E402
from scratch_database import postgres_database  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

from bot.bootstrap import build_coach  # noqa: E402
from bot.config import SOURCE_CONTENT, Settings  # noqa: E402
from bot.core.messages import Incoming, Platform, Reply  # noqa: E402
from bot.heap import settle_after_start  # noqa: E402
from storage import db, sqlite_inline  # noqa: E402

START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, after the 07:30 reminder


# --- people and their clocks ------------------------------------------------------------------


@dataclass
class Person:
    ref: str
    day: int = 0
    second: int = 0
    last: list[Reply] = field(default_factory=list)

    def now(self) -> datetime:
        return START + timedelta(days=self.day, seconds=self.second)


NOBODY = Person("nobody")
SPEAKER: ContextVar[Person] = ContextVar("speaker", default=NOBODY)


def clock() -> datetime:
    """The coach's clock: the current speaker's own day (set per task, so concurrent people
    each live on their own calendar)."""
    return SPEAKER.get().now()


Handle = Callable[[Incoming], Awaitable[list[Reply]]]
Samples = list[tuple[float, float]]  # (finished at, latency) per message


async def send(
    handle: Handle,
    person: Person,
    samples: Samples | None,
    text: str | None = None,
    action: str | None = None,
) -> list[Reply]:
    SPEAKER.set(person)
    person.second += 5
    incoming = Incoming(
        platform=Platform.CONSOLE,
        user_ref=person.ref,
        chat_ref=person.ref,
        is_private=True,
        display_name=person.ref,
        text=text,
        action=action,
    )
    started = time.perf_counter()
    person.last = await handle(incoming)
    finished = time.perf_counter()
    if samples is not None:
        samples.append((finished, finished - started))
    return person.last


def button(person: Person, label: str) -> str | None:
    for reply in reversed(person.last):
        for candidate in reply.all_buttons():
            if candidate.label == label:
                return candidate.action
    return None


def text_of(person: Person) -> str:
    return "\n".join(reply.text for reply in person.last)


async def press(handle: Handle, person: Person, label: str, samples: Samples | None) -> None:
    action = button(person, label)
    if action is None:
        raise AssertionError(f"{person.ref}: no button {label!r} in {text_of(person)[:200]!r}")
    await send(handle, person, samples, action=action)


async def onboard(handle: Handle, person: Person) -> None:
    await send(handle, person, None, "/start")
    await press(handle, person, "None of these", None)
    await press(handle, person, "None of these", None)
    await press(handle, person, "2", None)
    for answer in ("6", "Skip", "Berlin", "07:30"):
        await send(handle, person, None, answer)
    if "all set" not in text_of(person):
        raise AssertionError(f"onboarding did not finish: {text_of(person)[:200]!r}")


async def one_day(
    handle: Handle,
    person: Person,
    samples: Samples | None,
    due: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """`/routine`, the morning answer if the coach asks it first, a quick check-in; then the
    person's clock moves to the next day. `due`: awaited before each message (the offered
    load's schedule)."""
    if due is not None:
        await due()
    await send(handle, person, samples, "/routine")
    if button(person, "2") is not None:  # "how is your back this morning, 0 to 10?"
        if due is not None:
            await due()
        await press(handle, person, "2", samples)
    if due is not None:
        await due()
    await send(handle, person, samples, "/checkin 2 yes 7")
    if "Logged" not in text_of(person):
        raise AssertionError(f"check-in not logged: {text_of(person)[:200]!r}")
    person.day += 1
    person.second = 0


# --- the bare transaction ---------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class BareRow(Base):
    __tablename__ = "bench_bare_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The same settings the coach's SQLite engine uses, so the floor is measured fairly.
    cursor = dbapi_connection.cursor()
    pragmas = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000")
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def bare_engine(url: str) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10)


async def bare_setup(engine: AsyncEngine, rows: int) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add_all(BareRow(id=i, count=0) for i in range(rows))


# --- load -------------------------------------------------------------------------------------


@dataclass
class Result:
    rate: float
    p50: float
    p99: float
    mean: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_load(
    workers: int, loop: Callable[[int, Samples], Awaitable[None]], warm: float, seconds: float
) -> Result:
    """`workers` tasks call `loop(worker, samples)` until stopped; messages finished within the
    measuring window (after the warm-up) count."""
    samples: Samples = []
    stop = asyncio.Event()

    async def worker(index: int) -> None:
        while not stop.is_set():
            await loop(index, samples)

    return await measured_window(workers, worker, stop, samples, warm, seconds)


async def measured_window(
    workers: int,
    worker: Callable[[int], Awaitable[None]],
    stop: asyncio.Event,
    samples: Samples,
    warm: float,
    seconds: float,
) -> Result:
    """`workers` tasks of `worker` until `stop` is set after the window; what finished inside
    the window (after the warm-up) counts."""
    tasks = [asyncio.create_task(worker(i)) for i in range(workers)]
    await asyncio.sleep(warm)
    begin = time.perf_counter()
    await asyncio.sleep(seconds)
    end = time.perf_counter()
    stop.set()
    await asyncio.gather(*tasks)
    inside = [latency for finished, latency in samples if begin <= finished <= end]
    if not inside:
        raise AssertionError("no message finished inside the measuring window")
    return Result(
        len(inside) / (end - begin),
        percentile(inside, 0.5),
        percentile(inside, 0.99),
        statistics.mean(inside),
    )


async def offered_load(
    workers: int,
    loop: Callable[[int, Samples, Callable[[], Awaitable[None]]], Awaitable[None]],
    rate: float,
    warm: float,
    seconds: float,
) -> tuple[Result, float]:
    """Open loop: `workers` people send messages at `rate` per second in all, each on their own
    schedule of random (exponential) gaps, one message at a time (a person waits for the
    answer; a message past due goes at once). Latency is from the answer back to when the
    message was sent; the rate is what was answered inside the window. Also returned: the share
    of messages sent late (their person still waiting for an earlier answer when they were
    due: a late message's wait is not in its latency). `loop(worker, samples, due)` awaits
    `due()` before each message."""
    samples: Samples = []
    sent = late = 0
    stop = asyncio.Event()
    mean_gap = workers / rate
    # Seeded per run: both sides meet the same schedule of gaps.
    gaps = random.Random(12)

    async def worker(index: int) -> None:
        next_at = time.perf_counter() + gaps.expovariate(1 / mean_gap)

        async def due() -> None:
            nonlocal next_at, sent, late
            wait = next_at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late += 1
            sent += 1
            next_at += gaps.expovariate(1 / mean_gap)

        while not stop.is_set():
            await loop(index, samples, due)

    result = await measured_window(workers, worker, stop, samples, warm, seconds)
    return result, late / max(sent, 1)


# --- counting statements and round trips ------------------------------------------------------


@dataclass
class Tally:
    on: bool = False
    statements: list[str] = field(default_factory=list)
    trips: int = 0


TALLY = Tally()


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if TALLY.on:
        TALLY.statements.append(f"{' '.join(statement.split())}  <- {_issued_from()}")


def _issued_from() -> str:
    """The innermost coach line (bot/) and storage line that issued a statement. The ORM runs
    it in a greenlet, so the walk continues in the parent greenlet, where the coroutines wait."""
    found: dict[str, str] = {}
    frame: Any = sys._getframe(1)
    current: Any = greenlet.getcurrent()
    while frame is not None or current is not None:
        while frame is not None:
            path = Path(frame.f_code.co_filename)
            if ROOT in path.parents and path.parent.name != "bench":
                where = path.relative_to(ROOT).parts[0]
                found.setdefault(where, f"{path.relative_to(ROOT)}:{frame.f_lineno}")
            frame = frame.f_back
        current = current.parent if current is not None else None
        frame = current.gr_frame if current is not None else None
    return " <- ".join(found[part] for part in ("storage", "bot") if part in found)


@contextmanager
def counting() -> Iterator[None]:
    """Counts every statement (SQLAlchemy's `before_cursor_execute`, on every engine) and every
    round trip: an aiosqlite hop to its worker thread, or a write to a database socket."""
    event.listen(Engine, "before_cursor_execute", _count_statement)
    # Private seams of aiosqlite and asyncio, patched only while counting.
    connection: Any = aiosqlite.core.Connection
    transport: Any = getattr(asyncio.selector_events, "_SelectorSocketTransport")  # noqa: B009
    hop, write = connection._execute, transport.write

    async def counted_hop(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if TALLY.on:
            TALLY.trips += 1
        return await hop(self, fn, *args, **kwargs)

    def counted_write(self: Any, data: Any) -> None:
        if TALLY.on:
            TALLY.trips += 1
        write(self, data)

    connection._execute, transport.write = counted_hop, counted_write
    try:
        yield
    finally:
        connection._execute, transport.write = hop, write
        event.remove(Engine, "before_cursor_execute", _count_statement)


@dataclass
class Counted:
    statements: int
    trips: int
    sql: list[str]


async def measured(step: Awaitable[Any]) -> Counted:
    TALLY.statements, TALLY.trips, TALLY.on = [], 0, True
    try:
        await step
    finally:
        TALLY.on = False
    return Counted(len(TALLY.statements), TALLY.trips, list(TALLY.statements))


async def count_per_message(handle: Handle) -> dict[str, Counted]:
    """Three days of one person; the third day's counts (warm caches, a history behind it)."""
    person = Person(f"counter-{uuid.uuid4().hex[:6]}")
    await onboard(handle, person)
    await one_day(handle, person, None)  # a check-in yesterday: the morning question is due
    counts: dict[str, Counted] = {}
    for day in range(3):
        SPEAKER.set(person)
        person.day, person.second = day + 1, 0
        counts["/routine (asks the morning question)"] = await measured(
            send(handle, person, None, "/routine")
        )
        counts["button: morning answer (shows the routine)"] = await measured(
            press(handle, person, "2", None)
        )
        counts["/routine (routine again, same day)"] = await measured(
            send(handle, person, None, "/routine")
        )
        counts["button: Done - check in"] = await measured(
            press(handle, person, "Done - check in", None)
        )
        counts["button: pain answer (check-in step)"] = await measured(
            press(handle, person, "2", None)
        )
        counts["/checkin 2 yes 7 (finishes the open check-in)"] = await measured(
            send(handle, person, None, "/checkin 2 yes 7")
        )
        if "Logged" not in text_of(person):
            raise AssertionError(f"check-in not logged: {text_of(person)[:200]!r}")
    # A quick check-in on a fresh day, the form the load loop uses.
    person.day, person.second = 4, 0
    await send(handle, person, None, "/routine")
    await press(handle, person, "2", None)
    counts["/checkin 2 yes 7 (quick, first of the day)"] = await measured(
        send(handle, person, None, "/checkin 2 yes 7")
    )
    return counts


# --- the coach as several processes on one database -------------------------------------------


@dataclass
class Busy:
    """SQLite lock waits of one replica's coach, counted in `storage.sqlite_inline`'s retry."""

    waited: int = 0  # statements (or commits) that found the database locked and waited
    retries: int = 0  # tries after the first, over all of them
    seconds: float = 0.0  # time those statements spent from their first try to their answer
    failed: Counter[str] = field(default_factory=Counter)  # BUSY errors raised to the coach


BUSY = Busy()
BUSY_CODES = {5: "SQLITE_BUSY", 261: "SQLITE_BUSY_RECOVERY", 517: "SQLITE_BUSY_SNAPSHOT"}


def count_busy() -> None:
    """Wraps `sqlite_inline._patiently` (looked up at each call) so every try is counted; the
    waiting itself is the module's own."""
    patiently = sqlite_inline._patiently

    async def counted(call: Callable[[], Any], patience: float) -> Any:
        tries = 0
        started = time.perf_counter()

        def attempt() -> Any:
            nonlocal tries
            tries += 1
            return call()

        try:
            return await patiently(attempt, patience)
        except sqlite3.OperationalError as error:
            code = getattr(error, "sqlite_errorcode", None)
            if code in BUSY_CODES:
                BUSY.failed[f"{BUSY_CODES[code]} after {tries} tries"] += 1
            raise
        finally:
            if tries > 1:
                BUSY.waited += 1
                BUSY.retries += tries - 1
                BUSY.seconds += time.perf_counter() - started

    sqlite_inline._patiently = counted


Seat = tuple[str, int, int]  # a person as sent to a replica: ref, day, second


def replica_main(pipe: Connection, url: str) -> None:
    """A replica process: its own coach on the database, serving what the parent sends."""
    try:
        asyncio.run(replica_serve(pipe, url))
    except BaseException:
        pipe.send(("failed", traceback.format_exc()))
        raise


async def replica_serve(pipe: Connection, url: str) -> None:
    count_busy()
    coach = await build_coach(Settings(database_url=url, content_dir=SOURCE_CONTENT), clock=clock)
    try:
        # Warm, as the parent's coach is after onboarding everyone: a person of its own, a few
        # days through, before any window.
        warm = Person(f"warm-{os.getpid()}")
        await onboard(coach.handle, warm)
        for _ in range(3):
            await one_day(coach.handle, warm, None)
        settle_after_start()  # as `coach run` does once its adapters have started
        pipe.send(("ready", None))
        while True:
            order = pipe.recv()  # blocking: nothing else runs in this process between windows
            if order is None:
                return
            pipe.send(("done", await replica_window(coach.handle, *order)))
    finally:
        await coach.close()


async def replica_window(
    handle: Handle, slots: list[list[Seat]], start_at: float, warm: float, seconds: float
) -> dict[str, Any]:
    """One loop per slot, as `coach_loop` in `bench_database`, from `start_at` (wall clock, the
    same for every replica) until the measuring window [start_at + warm, + seconds] closes.
    A day that fails is counted by its error and the person moves on to the next day."""
    BUSY.waited, BUSY.retries, BUSY.seconds, BUSY.failed = 0, 0, 0.0, Counter()
    errors: Counter[str] = Counter()
    people = [[Person(ref, day, second) for ref, day, second in slot] for slot in slots]
    samples: Samples = []
    # Latencies and the window in perf_counter; the window's place from the shared wall clock.
    offset = time.time() - time.perf_counter()
    begin, end = start_at + warm - offset, start_at + warm + seconds - offset
    await asyncio.sleep(max(0.0, start_at - time.time()))

    async def worker(mine: list[Person]) -> None:
        while time.perf_counter() < end:
            person = min(mine, key=lambda p: p.day)
            try:
                await one_day(handle, person, samples)
            except Exception as error:
                errors[f"{type(error).__name__}: {' '.join(str(error).split())[:160]}"] += 1
                person.day += 1
                person.second = 0

    await asyncio.gather(*(worker(mine) for mine in people))
    return {
        "latencies": [latency for finished, latency in samples if begin <= finished <= end],
        "errors": errors,
        "busy": (BUSY.waited, BUSY.retries, BUSY.seconds, BUSY.failed),  # plain: __mp_main__
        "people": [[(p.ref, p.day, p.second) for p in mine] for mine in people],
    }


@dataclass
class ReplicaRun:
    result: Result
    errors: Counter[str]
    busy: Busy
    busy_processes: int
    processes: int


class Replicas:
    """N coach processes (spawned) on one database, each serving its own share of the people."""

    def __init__(self, url: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=replica_main, args=(theirs, url), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    async def _answer(self, pipe: Connection, expected: str) -> Any:
        kind, payload = await asyncio.to_thread(pipe.recv)
        if kind != expected:
            raise RuntimeError(f"a replica failed:\n{payload}")
        return payload

    async def ready(self) -> None:
        await asyncio.gather(*(self._answer(pipe, "ready") for pipe in self.pipes))

    async def run(self, k: int, people: list[Person], warm: float, seconds: float) -> ReplicaRun:
        """K loops as in the one-process run, loop w (people w, w+K, ...) in replica w mod N;
        all windows start at the same wall-clock time."""
        by_ref = {person.ref: person for person in people}
        count = len(self.pipes)
        shares: list[list[list[Seat]]] = [[] for _ in range(count)]
        for slot in range(k):
            shares[slot % count].append([(p.ref, p.day, p.second) for p in people[slot::k]])
        start_at = time.time() + 0.25  # every replica is idle, waiting for its order
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send((share, start_at, warm, seconds))
        answers = await asyncio.gather(*(self._answer(pipe, "done") for pipe in self.pipes))
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        busy = Busy()
        for answer in answers:
            latencies += answer["latencies"]
            errors += answer["errors"]
            waited, retries, seconds_waited, failed = answer["busy"]
            busy.waited += waited
            busy.retries += retries
            busy.seconds += seconds_waited
            busy.failed += failed
            for slot in answer["people"]:
                for ref, day, second in slot:
                    by_ref[ref].day, by_ref[ref].second = day, second
        if not latencies:
            raise AssertionError("no message finished inside the measuring window")
        result = Result(
            len(latencies) / seconds,
            percentile(latencies, 0.5),
            percentile(latencies, 0.99),
            statistics.mean(latencies),
        )
        return ReplicaRun(result, errors, busy, sum(1 for share in shares if share), count)

    def close(self) -> None:
        for pipe in self.pipes:
            with suppress(OSError):  # a replica that failed has already said why
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=30)


# --- databases --------------------------------------------------------------------------------


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    yield f"sqlite+aiosqlite:///{folder / 'coach.sqlite3'}"


def short_sql(statement: str) -> str:
    """The statement with its column lists elided, so the table and the WHERE clause show."""
    shown = re.sub(r"^SELECT (?!count).*? FROM", "SELECT ... FROM", statement)
    shown = re.sub(r"^INSERT INTO (\w+) \(.*?\) VALUES", r"INSERT INTO \1 (...) VALUES", shown)
    return shown if len(shown) < 400 else shown[:200] + " ... " + shown[-120:]


def loadavg() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


async def bench_database(
    label: str,
    url: str,
    ks: list[int],
    warm: float,
    seconds: float,
    show_sql: bool,
    processes: int = 1,
    offered: tuple[float, ...] = (),
    offered_at: tuple[int, ...] = (),
    slo: float = 0.1,
    interleave_at: tuple[int, ...] = (),
    interleave_rounds: int = 8,
    offered_rounds: int = 4,
) -> None:
    print(f"\n== {label} (load average {loadavg()} at start)", flush=True)
    coach = await build_coach(Settings(database_url=url, content_dir=SOURCE_CONTENT), clock=clock)
    engine = bare_engine(url)
    same_engine: AsyncEngine | None = None
    replicas: Replicas | None = None
    people = [Person(f"p{i}") for i in range(max(ks))]
    try:
        began = time.perf_counter()
        for batch in range(0, len(people), 20):
            await asyncio.gather(*(onboard(coach.handle, p) for p in people[batch : batch + 20]))
        await bare_setup(engine, len(people))
        print(f"{len(people)} people onboarded in {time.perf_counter() - began:.1f} s", flush=True)
        # As `coach run` does once started (the bare loops below run in this process too).
        settle_after_start()
        bare_sessions = async_sessionmaker(engine, expire_on_commit=False)
        # The same bare transaction on the coach's own engine (storage.db.create_engine: on
        # SQLite the inline connection, on PostgreSQL the checkout ping): what the driver alone
        # is worth, beside what the coach adds on top of it.
        same_engine = db.create_engine(url)
        same_sessions = async_sessionmaker(same_engine, expire_on_commit=False)
        if processes > 1:
            began = time.perf_counter()
            replicas = Replicas(url, processes)
            await replicas.ready()
            print(
                f"{processes} coach processes started in {time.perf_counter() - began:.1f} s",
                flush=True,
            )

        xn = f"x{processes}"
        header = (
            f"{'K':>4} | {'coach msg/s':>11} {'p50 ms':>7} {'p99 ms':>7} | {'bare tx/s':>9} "
            f"{'p50 ms':>7} {'p99 ms':>7} | {'rate c/b':>8} {'p99 c/b':>7} | "
            f"{'same-engine tx/s':>16} {'c/s':>5} | "
            + (
                f"{f'coach {xn} msg/s':>14} {'p50 ms':>7} {'p99 ms':>7} {f'{xn}/b':>5} "
                f"{f'{xn}/x1':>5} | "
                if replicas is not None
                else ""
            )
            + "load"
        )
        print(header)
        print("-" * len(header))
        for k in ks:

            async def coach_loop(worker: int, samples: Samples, k: int = k) -> None:
                # Worker w speaks for people w, w+K, w+2K, ... in turn: K people at once, and
                # every person's history grows at the same pace whatever K.
                mine = people[worker::k]
                person = min(mine, key=lambda p: p.day)
                await one_day(coach.handle, person, samples)

            def bare_loop(
                sessions: async_sessionmaker[Any],
            ) -> Callable[[int, Samples], Awaitable[None]]:
                async def loop(worker: int, samples: Samples) -> None:
                    started = time.perf_counter()
                    async with sessions() as session, session.begin():
                        row = (await session.scalars(select(BareRow).filter_by(id=worker))).one()
                        row.count += 1
                    finished = time.perf_counter()
                    samples.append((finished, finished - started))

                return loop

            async def offered_search(k: int) -> None:
                """Open loop (`offered_load`): K people on their own random schedules offer
                each share of the bare loop's closed-loop rate in turn, to the coach and to the
                bare loop, until neither answers it within the p99 budget (`slo`). This
                machine's speed drifts by tens of percent over seconds, so each share is
                `offered_rounds` rounds of short blocks taken in turn: per side, the bare
                closed-loop rate measured just before (0.75 s), then the open loop at that
                share of it (1.5 s). Per side: the median p99 over the rounds decides. Printed:
                a line per share, then the highest share each side answered within budget."""

                async def coach_paced(
                    worker: int, samples: Samples, due: Callable[[], Awaitable[None]]
                ) -> None:
                    await one_day(coach.handle, people[worker], samples, due)

                async def bare_paced(
                    worker: int, samples: Samples, due: Callable[[], Awaitable[None]]
                ) -> None:
                    await due()
                    await bare_loop(bare_sessions)(worker, samples)

                sides = {"coach": coach_paced, "bare": bare_paced}
                kept = {"coach": 0.0, "bare": 0.0}
                missed: set[str] = set()
                for share in offered:
                    rounds: dict[str, list[tuple[float, float, float]]] = {s: [] for s in sides}
                    for _ in range(offered_rounds):
                        for side, paced in sides.items():
                            if side in missed:
                                continue
                            reference = await run_load(k, bare_loop(bare_sessions), 0.25, 0.75)
                            rate = share * reference.rate
                            result, late = await offered_load(k, paced, rate, 0.25, 1.5)
                            rounds[side].append((result.p99, result.rate / rate, late))
                    line = f"     K={k}, offered {share:.2f}x the bare rate:"
                    for side in sides:
                        if not rounds[side]:
                            line += f" {side} -{' ' * 45}"
                            continue
                        p99s = sorted(p99 for p99, _, _ in rounds[side])
                        p99 = statistics.median(p99s)
                        answered = statistics.median(a for _, a, _ in rounds[side])
                        late = statistics.median(late for _, _, late in rounds[side])
                        within = p99 < slo
                        if within:
                            kept[side] = share
                        else:
                            missed.add(side)
                        line += (
                            f" {side} answered {answered:4.0%} p99 {p99 * 1e3:5.1f} ms "
                            f"({p99s[0] * 1e3:.0f}-{p99s[-1] * 1e3:.0f}) {late:4.0%} late "
                            f"{'ok' if within else 'x '}"
                        )
                    print(line, flush=True)
                    if len(missed) == 2:
                        break
                print(
                    f"     K={k}, highest share of the bare closed-loop rate answered with p99 "
                    f"under {slo * 1e3:.0f} ms (median of rounds): coach {kept['coach']:.2f}x, "
                    f"bare {kept['bare']:.2f}x",
                    flush=True,
                )

            ours = await run_load(k, coach_loop, warm, seconds)
            spread = None
            if replicas is not None:
                spread = await replicas.run(k, people, warm, seconds)
            bare = await run_load(k, bare_loop(bare_sessions), warm, seconds)
            same = await run_load(k, bare_loop(same_sessions), warm, seconds)
            columns = ""
            if spread is not None:
                theirs = spread.result
                columns = (
                    f"{theirs.rate:>14.0f} {theirs.p50 * 1e3:>7.2f} {theirs.p99 * 1e3:>7.2f} "
                    f"{theirs.rate / bare.rate:>5.2f} {theirs.rate / ours.rate:>5.2f} | "
                )
            print(
                f"{k:>4} | {ours.rate:>11.0f} {ours.p50 * 1e3:>7.2f} {ours.p99 * 1e3:>7.2f} | "
                f"{bare.rate:>9.0f} {bare.p50 * 1e3:>7.2f} {bare.p99 * 1e3:>7.2f} | "
                f"{ours.rate / bare.rate:>8.2f} {ours.p99 / bare.p99:>7.2f} | "
                f"{same.rate:>16.0f} {ours.rate / same.rate:>5.2f} | {columns}{loadavg()}",
                flush=True,
            )
            if spread is not None:
                print(f"     {xn}: {spread_note(spread, label)}", flush=True)
            if k in interleave_at:
                ratio = await interleaved_rate(
                    k, coach_loop, bare_loop(bare_sessions), rounds=interleave_rounds
                )
                print(f"     K={k}, interleaved: {ratio}", flush=True)
            if k in offered_at and offered:
                await offered_search(k)
            if k == 1:
                print(
                    f"     K=1: a message costs {ours.mean / bare.mean:.2f}x a bare transaction "
                    f"(mean {ours.mean * 1e3:.2f} / {bare.mean * 1e3:.2f} ms; "
                    f"p50 ratio {ours.p50 / bare.p50:.2f}); "
                    f"{ours.mean / same.mean:.2f}x one on the coach's engine "
                    f"(mean {same.mean * 1e3:.2f} ms)",
                    flush=True,
                )
                cost = await interleaved_cost(coach.handle, people[0], bare_sessions)
                print(f"     K=1, interleaved: {cost}", flush=True)

        with counting():
            counts = await count_per_message(coach.handle)
            bare_count = await measured(bare_loop_once(bare_sessions))
            same_count = await measured(bare_loop_once(same_sessions))
        trip_word = "thread hops" if label.startswith("SQLite") else "round trips"
        print(f"\nper message ({label}): statements, {trip_word}")
        for name, counted in counts.items():
            print(f"  {name:<44} {counted.statements:>3} statements {counted.trips:>4} {trip_word}")
            if show_sql:
                for statement in counted.sql:
                    print(f"      {short_sql(statement)}")
        print(
            f"  {'bare transaction':<44} {bare_count.statements:>3} statements "
            f"{bare_count.trips:>4} {trip_word}"
        )
        print(
            f"  {'bare transaction, coach engine':<44} {same_count.statements:>3} statements "
            f"{same_count.trips:>4} {trip_word}"
        )
        print(f"load average at end: {loadavg()}", flush=True)
    finally:
        if replicas is not None:
            replicas.close()
        await coach.close()
        await engine.dispose()
        if same_engine is not None:
            await same_engine.dispose()


async def interleaved_cost(
    handle: Handle, person: Person, bare_sessions: async_sessionmaker[Any], rounds: int = 24
) -> str:
    """The cost of one message against one bare transaction, from blocks of each taken in
    turn (about 0.15 s per block): this machine's speed drifts by tens of percent over seconds
    (a virtual machine whose idle CPUs wake slowly), and two blocks side by side see the same
    machine. Per round, the ratio of the mean wall time and of the CPU time (this process) per
    message to the bare transaction's; printed, the median over the rounds and the 25th-75th
    percentiles."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(rounds):
        samples: Samples = []
        wall, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - wall < 0.15:
            await one_day(handle, person, samples)
        coach_wall = (time.perf_counter() - wall) / len(samples)
        coach_cpu = (time.process_time() - cpu) / len(samples)
        done = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - wall < 0.15:
            await bare_loop_once(bare_sessions)
            done += 1
        walls.append(coach_wall / ((time.perf_counter() - wall) / done))
        cpus.append(coach_cpu / ((time.process_time() - cpu) / done))

    def summary(ratios: list[float]) -> str:
        quartiles = statistics.quantiles(ratios, n=4)
        return f"{statistics.median(ratios):.2f}x ({quartiles[0]:.2f}-{quartiles[2]:.2f})"

    return (
        f"a message costs {summary(walls)} a bare transaction in wall time, "
        f"{summary(cpus)} in CPU time ({rounds} rounds of 0.15 s each)"
    )


async def interleaved_rate(
    k: int,
    coach_loop: Callable[[int, Samples], Awaitable[None]],
    bare_loop: Callable[[int, Samples], Awaitable[None]],
    rounds: int,
    block: float = 1.0,
) -> str:
    """The K-people rate of the coach against the bare loop's, from blocks of each taken in
    turn (`block` seconds measured after 0.25 s of warm-up each; this machine's speed drifts by
    tens of percent over seconds, and two blocks side by side see the same machine). Printed:
    the median ratio over the rounds and its 25th-75th percentiles, and the median p99s."""
    ratios: list[float] = []
    p99s: list[tuple[float, float]] = []
    for _ in range(rounds):
        ours = await run_load(k, coach_loop, 0.25, block)
        bare = await run_load(k, bare_loop, 0.25, block)
        ratios.append(ours.rate / bare.rate)
        p99s.append((ours.p99, bare.p99))
    quartiles = statistics.quantiles(ratios, n=4)
    return (
        f"coach/bare rate {statistics.median(ratios):.2f}x ({quartiles[0]:.2f}-"
        f"{quartiles[2]:.2f}; {rounds} rounds of {block:g} s each); median p99 coach "
        f"{statistics.median(p[0] for p in p99s) * 1e3:.0f} ms, bare "
        f"{statistics.median(p[1] for p in p99s) * 1e3:.0f} ms"
    )


def spread_note(spread: ReplicaRun, label: str) -> str:
    """What the replicas met besides their answers: lock waits and failed days, all counted."""
    busy = spread.busy
    note = f"{spread.busy_processes} of {spread.processes} processes had people; "
    if label.startswith("SQLite"):
        note += (
            f"{busy.waited} statements waited for the write lock ({busy.retries} retries, "
            f"{busy.seconds * 1e3:.0f} ms in all), {sum(busy.failed.values())} BUSY errors raised"
        )
        note += "".join(f" [{name}: {n}]" for name, n in sorted(busy.failed.items()))
        note += "; "
    failed = sum(spread.errors.values())
    note += f"{failed} days failed"
    note += "".join(f" [{n}x {name}]" for name, n in spread.errors.most_common())
    return note


async def bare_loop_once(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as session, session.begin():
        row = (await session.scalars(select(BareRow).filter_by(id=0))).one()
        row.count += 1


async def main(args: argparse.Namespace) -> None:
    ks = [int(k) for k in args.ks.split(",")]
    warm, seconds = (0.5, 1.5) if args.quick else (1.0, args.seconds)
    print(
        f"bench_load: K={ks}, {seconds:g} s measured after {warm:g} s warm-up per K and side; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    for name in args.databases.split(","):
        database = sqlite_database if name == "sqlite" else postgres_database
        label = "SQLite file" if name == "sqlite" else "PostgreSQL 127.0.0.1"
        async with database() as url:
            await bench_database(
                label,
                url,
                ks,
                warm,
                seconds,
                args.show_sql,
                args.processes,
                tuple(float(share) for share in args.offered.split(",") if share),
                tuple(int(k) for k in args.offered_at.split(",") if k),
                args.slo_ms / 1e3,
                tuple(int(k) for k in args.interleave_at.split(",") if k),
                args.interleave_rounds,
                args.offered_rounds,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1.5 s per K and side")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per K/side")
    parser.add_argument("--ks", default="1,10,50,200")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--show-sql", action="store_true", help="print each counted statement")
    parser.add_argument(
        "--processes", type=int, default=1, help="also run the coach as N processes (N > 1)"
    )
    parser.add_argument(
        "--offered",
        default="0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
        help="open loop at --offered-at: shares of the bare rate offered in turn ('': none)",
    )
    parser.add_argument("--slo-ms", type=float, default=100.0, help="p99 budget, open loop")
    parser.add_argument("--offered-at", default="50", help="the K for --offered")
    parser.add_argument(
        "--interleave-at", default="50", help="these K also measured in interleaved blocks"
    )
    parser.add_argument("--interleave-rounds", type=int, default=8)
    parser.add_argument(
        "--offered-rounds", type=int, default=4, help="open loop: rounds per share, in turn"
    )
    asyncio.run(main(parser.parse_args()))
