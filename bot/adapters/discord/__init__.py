"""Discord adapter: slash commands, button presses and DM messages in, `Reply` out.

Thin on purpose: every interaction becomes one `Incoming` for the coach. One module per job:
`render` (a Reply as messages and components), `commands` (slash commands from the core's
declaration), `sync` (publishing them only when changed), `client` (interactions in, answers
out, persistent buttons), `sender` (pushed messages), `runtime` (building and serving the
client, the adapter contract).
"""

from bot.adapters.discord.client import ACTION_TEMPLATE, CoachClient
from bot.adapters.discord.runtime import DiscordAdapter, build_client, serve_discord, sync_commands
from bot.adapters.discord.sender import DiscordSender

__all__ = [
    "ACTION_TEMPLATE",
    "CoachClient",
    "DiscordAdapter",
    "DiscordSender",
    "build_client",
    "serve_discord",
    "sync_commands",
]
