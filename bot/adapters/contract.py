"""The one shape every chat platform has for `coach run`, and the list of platforms.

An adapter connects to its platform and maps what people do to `Incoming` for the coach
(the opsdroid Connector's connect/listen, in one `start`), renders the coach's `Reply` (with a
text fallback where a platform lacks buttons, as Rasa's OutputChannel does), and offers a
`Sender` for messages nobody asked for just now (reminders, team posts, digests).

A new platform is one package under `bot/adapters/` with a class that fits `Adapter` and a
`from_settings` constructor, and one line in `PLATFORMS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from bot.config import Settings
from bot.core.content import Library
from bot.core.messages import Platform
from bot.ports import CoachPort, Sender


class Adapter(Protocol):
    platform: Platform
    sender: Sender

    async def start(self) -> None:
        """Connect and begin receiving; raises when the platform cannot be served."""
        ...

    async def stop(self) -> None:
        """Stop receiving and close the connection; safe to call more than once."""
        ...

    async def stopped(self) -> None:
        """Returns when the adapter stops serving by itself; raises the failure that stopped
        it (a rejected login, a lost gateway)."""
        ...

    def healthy(self) -> bool:
        """Serving right now (for /healthz)."""
        ...


class AdapterFactory(Protocol):
    def __call__(self, settings: Settings, coach: CoachPort, library: Library) -> Adapter: ...


# One line per platform: when it is on, and "module:Class" of its adapter (imported only then).
PLATFORMS: tuple[tuple[Callable[[Settings], bool], str], ...] = (
    (lambda s: s.telegram_token is not None, "bot.adapters.telegram.runtime:TelegramAdapter"),
    (lambda s: s.discord_token is not None, "bot.adapters.discord.runtime:DiscordAdapter"),
)


def configured(settings: Settings, coach: CoachPort, library: Library) -> list[Adapter]:
    """The adapters of every platform the settings turn on."""
    adapters: list[Adapter] = []
    for enabled, target in PLATFORMS:
        if enabled(settings):
            module, _, name = target.partition(":")
            factory: AdapterFactory = getattr(importlib.import_module(module), name).from_settings
            adapters.append(factory(settings, coach, library))
    return adapters
