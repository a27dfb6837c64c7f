"""Running the Discord client: building it, serving until told to stop, the `coach discord
sync` entry point, and `DiscordAdapter`, the adapter contract for `coach run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from bot.adapters.discord.client import CoachClient, SyncMode
from bot.adapters.discord.commands import ExerciseNames
from bot.adapters.discord.sender import DiscordSender
from bot.adapters.toolkit import LibraryLogGuard, require_token
from bot.config import Settings
from bot.core.content import Library
from bot.core.messages import Incoming, Platform, Reply
from bot.ports import CoachPort

TOKEN_VARIABLE = "COACH_DISCORD_TOKEN"

# discord.py logs request bodies (message text), webhook URLs (interaction tokens) and whole
# gateway events at DEBUG: those records are dropped whatever level the app runs at.
LOG_GUARD = LibraryLogGuard(drop_below=logging.INFO)
GUARDED_LOGGERS = ("discord.http", "discord.webhook.async_", "discord.gateway", "discord.state")


class _NoCoach:
    """Stands in when the client only syncs commands."""

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return []

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


def build_client(
    settings: Settings,
    coach: CoachPort,
    *,
    exercise_names: ExerciseNames | None = None,
    sync_state_path: Path | None = None,
    command_sync: SyncMode = "auto",
    guild_ready_timeout: float = 2.0,
) -> CoachClient:
    """A discord.py client wired to the coach; start it with `serve_discord` (or `client.start`)."""
    if settings.discord_token is not None:
        LOG_GUARD.add_secret(settings.discord_token.get_secret_value())
    LOG_GUARD.install(GUARDED_LOGGERS)
    return CoachClient(
        coach,
        exercise_names=exercise_names,
        sync_state_path=sync_state_path,
        command_sync=command_sync,
        guild_ready_timeout=guild_ready_timeout,
    )


class DiscordAdapter:
    """The adapter contract for Discord. The gateway connects in the background: until it is
    ready, the sender answers "try again later"."""

    platform = Platform.DISCORD

    def __init__(
        self,
        settings: Settings,
        coach: CoachPort,
        *,
        client: CoachClient | None = None,
        exercise_names: ExerciseNames | None = None,
    ) -> None:
        self.token = require_token(settings.discord_token, TOKEN_VARIABLE)
        self.client = client or build_client(settings, coach, exercise_names=exercise_names)
        self.sender = DiscordSender(self.client, coach)
        self._runner: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, coach: CoachPort, library: Library
    ) -> DiscordAdapter:
        return cls(
            settings,
            coach,
            exercise_names=lambda: [e.name for e in library.exercises.values()],
        )

    def healthy(self) -> bool:
        return self.client.is_ready() and not self.client.is_closed()

    async def start(self) -> None:
        await self.client.__aenter__()
        self._runner = asyncio.create_task(self.client.start(self.token), name="discord-client")

    async def stopped(self) -> None:
        """Returns when the client stops by itself; raises a login or gateway failure."""
        if self._runner is not None:
            await asyncio.shield(self._runner)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            if not runner.done():
                await self.client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
        finally:
            await self.client.__aexit__(None, None, None)


async def serve_discord(
    settings: Settings,
    coach: CoachPort,
    stop: asyncio.Event,
    *,
    client: CoachClient | None = None,
    exercise_names: ExerciseNames | None = None,
) -> None:
    """Run the bot until `stop` is set. Pass `client` (from `build_client`) to share it with a
    `DiscordSender` for the scheduler; `exercise_names` feeds /exercise autocomplete."""
    adapter = DiscordAdapter(settings, coach, client=client, exercise_names=exercise_names)
    await adapter.start()
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    ended = asyncio.create_task(adapter.stopped(), name="discord-ended")
    try:
        done, _ = await asyncio.wait({ended, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if ended in done:
            ended.result()  # re-raise a login or gateway failure
    finally:
        stopper.cancel()
        ended.cancel()
        await adapter.stop()


async def sync_commands(settings: Settings, *, sync_state_path: Path | None = None) -> int:
    """Push the slash commands to Discord now (the `coach discord sync` CLI). Returns how many."""
    token = require_token(settings.discord_token, TOKEN_VARIABLE)
    client = build_client(
        settings, _NoCoach(), sync_state_path=sync_state_path, command_sync="force"
    )
    async with client:
        await client.login(token)  # runs setup_hook, which syncs
    return client.synced_commands or 0
