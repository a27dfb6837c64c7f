"""Messages nobody asked for just now: reminders by DM, team posts and digests in channels."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord

from bot.adapters.discord.client import CoachClient
from bot.adapters.discord.render import send_to
from bot.adapters.toolkit import numeric_ref, public_only, push
from bot.core.messages import Platform, Reply
from bot.ports import CoachPort, Delivery

_log = logging.getLogger("bot.adapters.discord")


def delivery_for(exc: Exception) -> Delivery | None:
    """What a Discord or network error means for a pushed message (None: not one of those)."""
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        _log.info("push unreachable (HTTP %s)", exc.status)
        return Delivery.UNREACHABLE
    if isinstance(exc, discord.RateLimited | discord.DiscordServerError):
        _log.info("push: try again later (%s)", type(exc).__name__)
        return Delivery.RETRY
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429 or exc.status >= 500:
            return Delivery.RETRY
        _log.warning("push failed (HTTP %s code %s)", exc.status, exc.code)
        return Delivery.FAILED
    if isinstance(exc, aiohttp.ClientError | OSError):
        _log.info("push: network error %s", type(exc).__name__)
        return Delivery.RETRY
    if isinstance(exc, discord.ClientException):
        # Not connected yet, or closing.
        return Delivery.RETRY
    return None


class DiscordSender:
    platform = Platform.DISCORD

    def __init__(self, client: CoachClient, coach: CoachPort | None = None) -> None:
        self.client = client
        self.coach = coach or client.coach

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        user_id = numeric_ref(user_ref)
        if user_id is None:
            return Delivery.FAILED

        async def send() -> None:
            try:
                channel = await self.client.create_dm(discord.Object(user_id))
                for reply in replies:
                    await send_to(channel, reply)
            except discord.Forbidden as exc:
                # 50007: this person does not accept DMs from us (or blocked the bot): what we
                # tried to send is shown in their next interaction.
                _log.info("cannot DM user %s (code %s): marking unreachable", user_ref, exc.code)
                await self.coach.mark_unreachable(Platform.DISCORD, user_ref)
                self.client.remember_undelivered(user_ref, replies)
                raise

        return await push(send, delivery_for)

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        channel_id = numeric_ref(channel_ref)
        if channel_id is None:
            return Delivery.FAILED
        public = public_only(replies, _log)
        if not public:
            return Delivery.FAILED
        channel = self.client.get_partial_messageable(channel_id, type=discord.ChannelType.text)

        async def send() -> None:
            for reply in public:
                await send_to(channel, reply)

        return await push(send, delivery_for)
