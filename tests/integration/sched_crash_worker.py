"""One scheduler process for the crash test (tests/integration/test_scheduler_crash.py).

It runs a tick at --now against --url with --concurrency sends in flight, appending
"<run> <ref>" for every message its sender delivers to --log (O_APPEND writes survive SIGKILL),
and kills itself with SIGKILL at a chosen point: after the Nth SQL statement (anywhere: claim,
enqueue, lease, marking a send begun, recording a result) or right after the Nth delivery, before
its outcome is recorded (the worst moment: sent but not marked), with the other sends in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.messages import Platform, Reply  # noqa: E402
from bot.pacing import Pacer  # noqa: E402
from bot.ports import Delivery  # noqa: E402
from storage import db  # noqa: E402
from tests.integration.scheduler_support import scheduler  # noqa: E402


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class LoggingSender:
    platform = Platform.TELEGRAM

    def __init__(self, log: Path, run: int, kill_at_send: int | None) -> None:
        self.fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.run = run
        self.kill_at_send = kill_at_send
        self.count = 0

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        await asyncio.sleep(0)  # the network: the other workers' sends go on meanwhile
        os.write(self.fd, f"{self.run} {user_ref}\n".encode())
        self.count += 1
        if self.kill_at_send is not None and self.count >= self.kill_at_send:
            die()
        await asyncio.sleep(0)  # the reply
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        return Delivery.FAILED


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--run", required=True, type=int)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kill-at-statement", type=int, default=None)
    parser.add_argument("--kill-at-send", type=int, default=None)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    engine = db.create_engine(args.url)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1
        if args.kill_at_statement is not None and statements >= args.kill_at_statement:
            die()

    event.listen(engine.sync_engine, "after_cursor_execute", count)
    sender = LoggingSender(args.log, args.run, args.kill_at_send)
    reminders = scheduler(
        db.sessionmaker(engine),
        {Platform.TELEGRAM: sender},
        clock=lambda: now,
        batch=100,
        concurrency=args.concurrency,  # sends in flight: a kill repeats at most this many
        pacers={Platform.TELEGRAM: Pacer()},
    )
    result = await reminders.tick(now)
    await engine.dispose()
    print(f"done: {result}; statements {statements}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
