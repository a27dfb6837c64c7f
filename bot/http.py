"""The operator's HTTP endpoints for `coach run`: /healthz and /metrics.

    health = Health()
    health.add_check("adapters.telegram", lambda: application.running)
    health.add_check("scheduler.tick", reminders.healthy)        # sync or async, -> bool
    runner = await start_http(settings.http_port, engine, health)
    ...
    await runner.cleanup()

/healthz answers 200 when the database answers `SELECT 1` and every check passes, 503 naming
what fails otherwise. A check named "group.name" is reported under that group: the body always
has "database", "adapters" and "scheduler":

    {"status": "ok", "database": "ok", "adapters": {"telegram": "ok"},
     "scheduler": {"tick": "ok"}, "failing": []}

Failures are reported by exception type only (never its message: a database error can carry
the host or user name). /metrics serves `bot.metrics.METRICS` in the Prometheus text format
(or OpenMetrics, when the scraper asks for it).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client.exposition import choose_encoder
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import (
    ACTIVE_PEOPLE,
    COMMAND_LATENCY,
    METRICS,
    REMINDER_SEND_LAG,
    REMINDERS_CLAIMED,
    REMINDERS_FAILED,
    REMINDERS_SENT,
    command_label,
    command_timer,
)

__all__ = [
    "ACTIVE_PEOPLE",
    "COMMAND_LATENCY",
    "METRICS",
    "REMINDERS_CLAIMED",
    "REMINDERS_FAILED",
    "REMINDERS_SENT",
    "REMINDER_SEND_LAG",
    "Check",
    "Health",
    "build_app",
    "command_label",
    "command_timer",
    "start_http",
]

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]] | Callable[[], bool]

GROUPS = ("adapters", "scheduler")
OK = "ok"


@dataclass
class Health:
    """The registered health checks; each must answer within `timeout` seconds."""

    timeout: float = 3.0
    checks: dict[str, Check] = field(default_factory=dict)

    def add_check(self, name: str, fn: Check) -> None:
        """Register `fn` (returns bool, or an awaitable of bool) under `name`, e.g.
        "adapters.telegram" or "scheduler.tick". A second check with a name replaces the first."""
        if not name or name in ("database", "status", "failing", *GROUPS):
            raise ValueError(f"reserved or empty health check name {name!r}")
        self.checks[name] = fn

    async def _run(self, fn: Callable[[], Any]) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                result = fn()
                if inspect.isawaitable(result):
                    result = await result
        except TimeoutError:
            return "failing: timeout"
        except Exception as error:
            return f"failing: {type(error).__name__}"
        return OK if result is True else "failing"

    async def report(self, engine: AsyncEngine) -> tuple[bool, dict[str, Any]]:
        """(healthy, body): the database and every check, run concurrently."""

        async def database() -> bool:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True

        names = ["database", *self.checks]
        results = await asyncio.gather(
            self._run(database), *(self._run(fn) for fn in self.checks.values())
        )
        body: dict[str, Any] = {"status": OK}
        body.update({group: {} for group in GROUPS})
        failing: list[str] = []
        for name, result in zip(names, results, strict=True):
            group, dot, part = name.partition(".")
            if dot:
                body.setdefault(group, {})
                if isinstance(body[group], dict):
                    body[group][part] = result
            else:
                body[name] = result
            if result != OK:
                failing.append(name)
        body["failing"] = failing
        if failing:
            body["status"] = "failing"
        return not failing, body


def build_app(engine: AsyncEngine, health: Health) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        healthy, body = await health.report(engine)
        if not healthy:
            log.warning("health check failing: %s", ", ".join(body["failing"]))
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        payload = await asyncio.to_thread(encoder, METRICS)
        return web.Response(body=payload, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_http(
    port: int, engine: AsyncEngine, health: Health, *, host: str = "0.0.0.0"
) -> web.AppRunner:
    """Serve /healthz and /metrics on `host:port` (port 0: any free port, see
    `runner.addresses`). Stop with `await runner.cleanup()`."""
    runner = web.AppRunner(build_app(engine, health), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("http: /healthz and /metrics on port %s", port)
    return runner
