"""The coach's Prometheus metrics, served at /metrics by `bot.http`.

Plain prometheus_client objects on the coach's own registry, importable from anywhere without
pulling in the web server:

    from bot import metrics
    metrics.REMINDERS_SENT.inc()
    with metrics.command_timer("checkin"):
        ...

Labels stay bounded: `command` is one of the coach's command names, "button", "text" or
"other" (see `command_label`), never user input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client import gc_collector as _gc
from prometheus_client import platform_collector as _platform
from prometheus_client import process_collector as _process

from bot.core.commands import COMMANDS, read_command

METRICS = CollectorRegistry(auto_describe=True)
# Process memory, CPU and open files, the Python version, garbage collection.
_process.ProcessCollector(registry=METRICS)
_platform.PlatformCollector(registry=METRICS)
_gc.GCCollector(registry=METRICS)

REMINDERS_CLAIMED = Counter(
    "coach_reminders_claimed",
    "Reminders claimed by this process's tick (outbox rows written).",
    registry=METRICS,
)
REMINDERS_SENT = Counter(
    "coach_reminders_sent",
    "Reminders delivered to a chat.",
    registry=METRICS,
)
REMINDERS_FAILED = Counter(
    "coach_reminders_failed",
    "Reminders given up on (unreachable, too late, retries exhausted).",
    registry=METRICS,
)
REMINDER_SEND_LAG = Histogram(
    "coach_reminder_send_lag_seconds",
    "From the reminder's due time to its delivery.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
    registry=METRICS,
)
COMMAND_LATENCY = Histogram(
    "coach_command_latency_seconds",
    "Time the coach takes to answer one incoming message or button press.",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=METRICS,
)
ACTIVE_PEOPLE = Gauge(
    "coach_active_people",
    "People who wrote to the coach in the last 7 days (refreshed hourly by the tick).",
    registry=METRICS,
)

KNOWN_COMMANDS = frozenset(command.name for command in COMMANDS)


def command_label(text: str | None = None, action: str | None = None) -> str:
    """The `command` label for an incoming message: "/checkin 3 yes 7" -> "checkin"."""
    if action is not None:
        return "button"
    typed = read_command(text)
    if typed is None:
        return "text"
    return typed.name if typed.name in KNOWN_COMMANDS else "other"


@contextmanager
def command_timer(command: str) -> Iterator[None]:
    """Observe the time the block takes into coach_command_latency_seconds{command=...}."""
    label = command if command in KNOWN_COMMANDS or command in {"button", "text"} else "other"
    started = time.perf_counter()
    try:
        yield
    finally:
        COMMAND_LATENCY.labels(command=label).observe(time.perf_counter() - started)
