"""The discord.py client: interactions and DM messages in, one `Incoming` each for the coach,
its replies out as follow-ups.

Interactions are deferred at once (the 3-second rule) and answered with follow-ups; a reply
marked `edit` replaces the pressed message when that message is private (a DM or ephemeral),
never a public one. In a server everything sent in answer to an interaction is ephemeral (only
the person who pressed or typed sees it), so health data never lands in a channel; a private
reply to keep (the /report page and PDF) goes to the person's DM instead, since an ephemeral
message vanishes, and if their DMs are closed they are told so, ephemerally.

Buttons survive restarts: the coach's payloads all start with "v1:", and one `DynamicItem`
(`CoachButton`) whose template matches them is registered at start, so a button sent yesterday
still routes to the coach today.

Logs carry ids, command names and status codes: never tokens, message text or answers.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import aiohttp
import discord

from bot.adapters.discord.commands import ExerciseNames, build_tree
from bot.adapters.discord.pictures import files_and_embeds
from bot.adapters.discord.render import NO_MENTIONS, OutgoingMessage, escape, send_to
from bot.adapters.discord.sync import (
    default_sync_state_path,
    read_sync_state,
    tree_fingerprint,
    write_sync_state,
)
from bot.adapters.toolkit import ask_coach
from bot.core.messages import Incoming, Platform, Reply
from bot.ports import CoachPort

_log = logging.getLogger("bot.adapters.discord")

ACTION_TEMPLATE = r"v1:.*"
SyncMode = Literal["auto", "force", "off"]
DM_CLOSED_NOTICE = (
    "I could not send you a direct message: your Discord privacy settings block DMs from me. "
    "To get reminders, allow direct messages from this server's members "
    "(Server menu → Privacy Settings). Here is what I tried to send:"
)
DM_CLOSED_KEEP_NOTICE = (
    "I could not send it to your direct messages: your Discord privacy settings block DMs "
    "from me. Allow direct messages from this server's members (Server menu → Privacy "
    "Settings), then ask again."
)


class CoachButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=ACTION_TEMPLATE,
):
    """Any button whose custom_id is a coach payload ("v1:..."), on any message, before or
    after a restart. The press becomes `Incoming(action=custom_id)`; the coach checks that the
    pressing person owns what the payload names."""

    def __init__(self, button: discord.ui.Button[discord.ui.View]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CoachButton:
        if isinstance(item, discord.ui.Button):
            return cls(item)
        return cls(discord.ui.Button(custom_id=match.group(0)))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        client = interaction.client
        if isinstance(client, CoachClient):
            await client.handle_interaction(interaction, action=self.custom_id)


class CoachClient(discord.Client):
    MAX_UNDELIVERED_PEOPLE = 10_000
    MAX_UNDELIVERED_REPLIES = 3

    def __init__(
        self,
        coach: CoachPort,
        *,
        exercise_names: ExerciseNames | None = None,
        sync_state_path: Path | None = None,
        command_sync: SyncMode = "auto",
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # Slash commands and components need no intents; `dm_messages` (not privileged) brings
        # the typed answers people send in a DM (a time zone, a number). Server messages are
        # never read.
        super().__init__(
            intents=discord.Intents(dm_messages=True),
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=60.0,
            allowed_mentions=NO_MENTIONS,
        )
        self.coach = coach
        self.exercise_names = exercise_names
        self.sync_state_path = Path(sync_state_path or default_sync_state_path())
        self.command_sync: SyncMode = command_sync
        self.tree = build_tree(self)
        self.synced_commands: int | None = None
        # People we could not DM (403): what we tried to send, shown in their next interaction.
        self._undelivered: OrderedDict[str, list[Reply]] = OrderedDict()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CoachButton)
        if self.command_sync == "off":
            return
        try:
            await self.sync_commands_if_changed(force=self.command_sync == "force")
        except discord.HTTPException as exc:
            if self.command_sync == "force":
                raise
            _log.warning("slash command sync failed (HTTP %s); will retry next start", exc.status)

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        application_id = self.application_id
        if application_id is None:
            raise discord.ClientException("not logged in: no application id")
        fingerprint = tree_fingerprint(self.tree)
        known = read_sync_state(self.sync_state_path).get(str(application_id))
        if known == fingerprint and not force:
            _log.info("slash commands unchanged; not syncing")
            return False
        synced = await self.tree.sync()
        self.synced_commands = len(synced)
        write_sync_state(self.sync_state_path, application_id, fingerprint)
        _log.info("synced %d slash commands", len(synced))
        return True

    def remember_undelivered(self, user_ref: str, replies: Sequence[Reply]) -> None:
        kept = [*self._undelivered.pop(user_ref, []), *replies][-self.MAX_UNDELIVERED_REPLIES :]
        self._undelivered[user_ref] = kept
        while len(self._undelivered) > self.MAX_UNDELIVERED_PEOPLE:
            self._undelivered.popitem(last=False)

    async def handle_interaction(
        self,
        interaction: discord.Interaction[discord.Client],
        *,
        text: str | None = None,
        action: str | None = None,
    ) -> None:
        """Defer at once (3-second rule), ask the coach, answer with follow-ups."""
        in_guild = interaction.guild_id is not None
        is_press = interaction.type is discord.InteractionType.component
        try:
            if is_press:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=in_guild, thinking=True)
        except discord.HTTPException as exc:
            _log.warning("could not defer interaction %s (HTTP %s)", interaction.id, exc.status)
            return

        user = interaction.user
        incoming = Incoming(
            platform=Platform.DISCORD,
            user_ref=str(user.id),
            chat_ref=str(interaction.channel_id or ""),
            is_private=not in_guild,
            display_name=user.display_name,
            text=text,
            action=action,
            group_ref=str(interaction.guild_id or ""),
            can_manage=in_guild and interaction.permissions.manage_guild,
        )
        replies = await self._ask(incoming, f"interaction {interaction.id}")
        message = interaction.message
        can_edit = is_press and message is not None and (not in_guild or message.flags.ephemeral)
        try:
            await self._answer(interaction, replies, ephemeral=in_guild, can_edit=can_edit)
        except discord.HTTPException as exc:
            _log.warning("could not answer interaction %s (HTTP %s)", interaction.id, exc.status)
        except (aiohttp.ClientError, OSError) as exc:  # OSError covers TimeoutError
            _log.warning("could not answer interaction %s (%s)", interaction.id, type(exc).__name__)

    async def on_message(self, message: discord.Message) -> None:
        """A typed answer in the bot's DM (server messages are not read)."""
        author = message.author
        if message.guild is not None or author.bot or not message.content:
            return
        incoming = Incoming(
            platform=Platform.DISCORD,
            user_ref=str(author.id),
            chat_ref=str(message.channel.id),
            is_private=True,
            display_name=author.display_name,
            text=message.content,
        )
        replies = await self._ask(incoming, f"message {message.id}")
        try:
            for reply in replies:
                await send_to(message.channel, reply)
        except discord.HTTPException as exc:
            _log.warning("could not answer message %s (HTTP %s)", message.id, exc.status)
        except (aiohttp.ClientError, OSError) as exc:  # OSError covers TimeoutError
            _log.warning("could not answer message %s (%s)", message.id, type(exc).__name__)

    async def _ask(self, incoming: Incoming, what: str) -> list[Reply]:
        """The coach's replies, then anything we failed to DM this person before."""
        replies = await ask_coach(self.coach, incoming, _log, f"discord {what}")
        undelivered = self._undelivered.pop(incoming.user_ref, None)
        if undelivered:
            replies += [Reply(text=DM_CLOSED_NOTICE, private=True), *undelivered]
        return replies

    async def _answer(
        self,
        interaction: discord.Interaction[discord.Client],
        replies: Sequence[Reply],
        *,
        ephemeral: bool,
        can_edit: bool,
    ) -> None:
        followup = interaction.followup
        sent = False
        edited = False
        dm_closed = False
        for reply in replies:
            if ephemeral and reply.private and reply.keep:
                # Asked in a server: to the DM, where it stays; never into the channel.
                if not dm_closed and not await self._send_kept(interaction, reply):
                    dm_closed = True
                    await followup.send(
                        escape(DM_CLOSED_KEEP_NOTICE), ephemeral=True, allowed_mentions=NO_MENTIONS
                    )
                    sent = True
                continue
            message = OutgoingMessage(reply)
            if message.empty:
                continue
            for chunk in message.leading:
                await followup.send(chunk, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
                sent = True
            file = message.file()
            files, embeds = files_and_embeds(message.pictures)
            if reply.edit and can_edit and not edited and not message.leading and not files:
                # Continue the question in place: new text and buttons on the pressed message.
                await interaction.edit_original_response(
                    content=message.content,
                    view=message.view,
                    attachments=[file] if file is not None else [],
                    allowed_mentions=NO_MENTIONS,
                )
                edited = sent = True
                continue
            await followup.send(
                message.content or discord.utils.MISSING,
                view=message.view or discord.utils.MISSING,
                file=file or discord.utils.MISSING,
                files=files or discord.utils.MISSING,
                embeds=embeds or discord.utils.MISSING,
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
            )
            sent = True
        if not sent and interaction.type is discord.InteractionType.application_command:
            # Nothing to say: do not leave the "thinking..." placeholder behind.
            await interaction.delete_original_response()

    async def _send_kept(
        self, interaction: discord.Interaction[discord.Client], reply: Reply
    ) -> bool:
        """A reply to keep, asked for in a server, sent to the person's DM. False: the person's
        privacy settings refuse DMs from the bot (403), and nothing was sent."""
        try:
            channel = await interaction.user.create_dm()
            await send_to(channel, reply)
        except discord.Forbidden as exc:
            _log.info(
                "interaction %s: cannot DM the person (code %s); told them in the server",
                interaction.id,
                exc.code,
            )
            return False
        return True
