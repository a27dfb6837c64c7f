"""Discord adapter: slash commands and button presses in, `Reply` out.

Thin on purpose: every interaction (and every message typed in the bot's DM, for answers such as
a time zone) becomes one `Incoming` for the coach, and every `Reply` the coach returns is rendered
as a message (components for buttons, a file for an image). Interactions are deferred at once
and answered with follow-ups; a reply marked `edit` replaces the pressed message when that
message is private (a DM or ephemeral), never a public one.

Privacy: in a server, everything sent in answer to an interaction is ephemeral (only the person
who pressed or typed sees it), so health data never lands in a channel. Messages pushed into a
channel by the scheduler (`DiscordSender.send_to_channel`) never carry a `Reply.private`.

Buttons survive restarts: the coach's payloads all start with "v1:", and one `DynamicItem`
(`CoachButton`) whose template matches them is registered at start, so a button sent yesterday
still routes to the coach today. The views we send are render-only (never stored by discord.py),
which keeps memory flat however many messages carry buttons.

Logs carry ids, command names and status codes: never tokens, message text or answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import traceback
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import aiohttp
import discord
from discord import app_commands
from platformdirs import user_data_dir

from bot.config import Settings
from bot.core.messages import COMMANDS, Button, Incoming, Platform, Reply
from bot.ports import CoachPort, Delivery
from bot.service.coach import MAX_PAUSE_DAYS

_log = logging.getLogger(__name__)

ACTION_TEMPLATE = r"v1:.*"
MAX_CONTENT = 2000  # Discord's limit for a message's content
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_LABEL = 80
MAX_CHOICES = 25
NO_MENTIONS = discord.AllowedMentions.none()

SyncMode = Literal["auto", "force", "off"]
ExerciseNames = Callable[[], Iterable[str]]

TEAM_REFUSAL = (
    "Only people with the Manage Server permission can change the team channel. "
    "Ask a server admin, or use /routine for your own plan."
)
TEAM_DM_REFUSAL = "The team channel belongs to a server: use /team inside the server."
# "/team name on|off" as a command of its own: `/team` needs Manage Server, a name is anyone's.
TEAM_NAME_COMMAND = "teamname"
COACH_ERROR = "Sorry, something went wrong on my side. Please try again in a minute."
OPTION_ERROR = "I could not read that command's options. Please try again."
DM_CLOSED_NOTICE = (
    "I could not send you a direct message: your Discord privacy settings block DMs from me. "
    "To get reminders, allow direct messages from this server's members "
    "(Server menu → Privacy Settings). Here is what I tried to send:"
)


def _describe(name: str) -> str:
    for command in COMMANDS:
        if command.name == name:
            return command.description
    raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Rendering a Reply


def _escape(text: str) -> str:
    # The coach writes plain text: show it as written, not as Discord markdown.
    return discord.utils.escape_markdown(text)


def _content_chunks(reply: Reply) -> list[str]:
    text = _escape(reply.text)
    if reply.title:
        text = f"**{_escape(reply.title)}**\n{text}" if text else f"**{_escape(reply.title)}**"
    chunks: list[str] = []
    while len(text) > MAX_CONTENT:
        cut = text.rfind("\n", 0, MAX_CONTENT)
        if cut <= 0:
            cut = text.rfind(" ", 0, MAX_CONTENT)
        if cut <= 0:
            cut = MAX_CONTENT
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    chunks.append(text)
    return chunks


def _button_rows(reply: Reply) -> list[list[Button]]:
    """The reply's rows, wrapped at 5 buttons; flattened into 5 rows of 5 if that overflows."""
    seen: set[str] = set()
    rows: list[list[Button]] = []
    for row in reply.buttons:
        unique: list[Button] = []
        for button in row:
            if button.action not in seen:  # Discord rejects a message with duplicate ids
                seen.add(button.action)
                unique.append(button)
        rows.extend(unique[i : i + MAX_PER_ROW] for i in range(0, len(unique), MAX_PER_ROW))
    rows = [row for row in rows if row]
    if len(rows) > MAX_ROWS:
        flat = [b for row in rows for b in row]
        limit = MAX_ROWS * MAX_PER_ROW
        if len(flat) > limit:
            _log.warning("reply has %d buttons, Discord shows %d", len(flat), limit)
        flat = flat[:limit]
        rows = [flat[i : i + MAX_PER_ROW] for i in range(0, len(flat), MAX_PER_ROW)]
    return rows


class ReplyView(discord.ui.View):
    """Components for one reply. Render-only: presses are routed by `CoachButton`.

    `is_dispatchable()` is False so discord.py never stores these views: a stored view of
    DynamicItems would, on timeout (discord.py gives ephemeral views 15 minutes), unregister the
    `CoachButton` template for the whole client; a stored view with `timeout=None` would be kept
    for every message ever sent.
    """

    def __init__(self, rows: Sequence[Sequence[Button]]) -> None:
        super().__init__(timeout=None)
        count = sum(len(row) for row in rows)
        style = discord.ButtonStyle.primary if count == 1 else discord.ButtonStyle.secondary
        for index, row in enumerate(rows):
            for button in row:
                self.add_item(
                    discord.ui.Button(
                        label=button.label[:MAX_LABEL] or "·",
                        custom_id=button.action,
                        style=style,
                        row=index,
                    )
                )

    def is_dispatchable(self) -> bool:
        return False


class _Message:
    """One reply split for Discord: leading text chunks, then the last chunk with components."""

    def __init__(self, reply: Reply) -> None:
        chunks = _content_chunks(reply)
        self.leading = [chunk for chunk in chunks[:-1] if chunk]
        self.content: str | None = chunks[-1] or None
        rows = _button_rows(reply)
        self.view: ReplyView | None = ReplyView(rows) if rows else None
        self.image = reply.image

    def file(self) -> discord.File | None:
        if self.image is None:
            return None
        return discord.File(self.image, filename=self.image.name)

    @property
    def empty(self) -> bool:
        return not self.leading and self.content is None and self.view is None and not self.image


async def _send_to(channel: discord.abc.Messageable, reply: Reply) -> None:
    message = _Message(reply)
    if message.empty:
        return
    for chunk in message.leading:
        await channel.send(chunk, allowed_mentions=NO_MENTIONS)
    file = message.file()
    if message.view is not None and file is not None:
        await channel.send(
            message.content, view=message.view, file=file, allowed_mentions=NO_MENTIONS
        )
    elif message.view is not None:
        await channel.send(message.content, view=message.view, allowed_mentions=NO_MENTIONS)
    elif file is not None:
        await channel.send(message.content, file=file, allowed_mentions=NO_MENTIONS)
    else:
        await channel.send(message.content, allowed_mentions=NO_MENTIONS)


# --------------------------------------------------------------------------------------------
# Persistent buttons


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


# --------------------------------------------------------------------------------------------
# Slash commands


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _best_matches(names: Iterable[str], current: str) -> list[app_commands.Choice[str]]:
    wanted = current.strip().casefold().replace(" ", "_")
    starts: list[str] = []
    contains: list[str] = []
    for name in names:
        folded = name.casefold()
        if not wanted or folded.startswith(wanted) or folded.rsplit("/", 1)[-1].startswith(wanted):
            starts.append(name)
        elif wanted in folded:
            contains.append(name)
        if len(starts) >= MAX_CHOICES:
            break
    picked = (starts + contains)[:MAX_CHOICES]
    return [app_commands.Choice(name=name[:100], value=name[:100]) for name in picked]


async def _zone_autocomplete(
    interaction: discord.Interaction[discord.Client], current: str
) -> list[app_commands.Choice[str]]:
    return _best_matches(_zone_names(), current)


async def _exercise_autocomplete(
    interaction: discord.Interaction[discord.Client], current: str
) -> list[app_commands.Choice[str]]:
    client = interaction.client
    if not isinstance(client, CoachClient) or client.exercise_names is None:
        return []
    try:
        names = sorted(set(client.exercise_names()), key=str.casefold)
    except Exception:
        _log.exception("exercise names callable failed")
        return []
    return _best_matches(names, current)


def _command_text(interaction: discord.Interaction[discord.Client], *args: object) -> str:
    command = interaction.command
    name = command.qualified_name if command is not None else "help"
    words = [f"/{name}", *(str(arg) for arg in args if arg is not None and str(arg) != "")]
    return " ".join(words)


async def _run(interaction: discord.Interaction[discord.Client], text: str) -> None:
    client = interaction.client
    if isinstance(client, CoachClient):
        await client.handle_interaction(interaction, text=text)


async def _plain(interaction: discord.Interaction[discord.Client]) -> None:
    await _run(interaction, _command_text(interaction))


@app_commands.describe(
    pain="Pain during the routine, 0 (none) to 10 (worst)",
    flat="Did your lower back stay flat on every rep?",
    comfort="Deadlift comfort 0-10; leave empty if you did not lift",
    leg="Pain, tingling or numbness went down a leg",
)
@app_commands.choices(
    flat=[
        app_commands.Choice(name="yes", value="yes"),
        app_commands.Choice(name="mostly", value="mostly"),
        app_commands.Choice(name="no", value="no"),
    ]
)
async def _checkin(
    interaction: discord.Interaction[discord.Client],
    pain: app_commands.Range[int, 0, 10] | None = None,
    flat: str | None = None,
    comfort: app_commands.Range[int, 0, 10] | None = None,
    leg: bool = False,
) -> None:
    # The typed form is positional ("/checkin 3 yes 7"); comfort left empty means "none".
    # Partial answers are passed as typed, so the coach explains the form.
    if pain is not None and flat is not None:
        args: list[object] = [pain, flat, comfort if comfort is not None else "none"]
    else:
        args = [pain, flat, comfort]
    if leg:
        args.append("leg")
    await _run(interaction, _command_text(interaction, *args))


@app_commands.describe(time="HH:MM (24 h), or off", zone="Your time zone, e.g. Europe/Berlin")
@app_commands.autocomplete(zone=_zone_autocomplete)
async def _remind(
    interaction: discord.Interaction[discord.Client], time: str, zone: str | None = None
) -> None:
    await _run(interaction, _command_text(interaction, time.strip(), (zone or "").strip()))


@app_commands.describe(delay="How long to push today's reminder back")
@app_commands.choices(
    delay=[
        app_commands.Choice(name="30 minutes", value="30m"),
        app_commands.Choice(name="1 hour", value="1h"),
    ]
)
async def _snooze(
    interaction: discord.Interaction[discord.Client], delay: str | None = None
) -> None:
    await _run(interaction, _command_text(interaction, delay))


@app_commands.describe(days="How many days to pause (empty: until /resume)")
async def _pause(
    interaction: discord.Interaction[discord.Client],
    days: app_commands.Range[int, 1, MAX_PAUSE_DAYS] | None = None,
) -> None:
    await _run(interaction, _command_text(interaction, days))


@app_commands.describe(
    choice="on or off (empty: show the setting)", day="The day it comes (default Sunday)"
)
@app_commands.choices(
    choice=[
        app_commands.Choice(name="on", value="on"),
        app_commands.Choice(name="off", value="off"),
    ],
    day=[
        app_commands.Choice(name=name, value=name[:3].lower())
        for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    ],
)
async def _summary(
    interaction: discord.Interaction[discord.Client],
    choice: str | None = None,
    day: str | None = None,
) -> None:
    if day is not None and choice is None:
        choice = "on"
    await _run(interaction, _command_text(interaction, choice, day if choice == "on" else None))


@app_commands.describe(name="The exercise")
@app_commands.autocomplete(name=_exercise_autocomplete)
async def _exercise(interaction: discord.Interaction[discord.Client], name: str) -> None:
    await _run(interaction, _command_text(interaction, name.strip()))


class PostChannel(app_commands.Transformer[discord.Client]):
    """A text or announcement channel, passed on as its id (no guild cache needed)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(
        self, interaction: discord.Interaction[discord.Client], value: Any, /
    ) -> app_commands.AppCommandChannel:
        if not isinstance(value, app_commands.AppCommandChannel) or (
            value.type not in self.channel_types
        ):
            raise app_commands.TransformerError(value, discord.AppCommandOptionType.channel, self)
        return value


async def _team_allowed(interaction: discord.Interaction[discord.Client]) -> bool:
    if interaction.guild_id is None:
        await _refuse(interaction, TEAM_DM_REFUSAL)
        return False
    if not interaction.permissions.manage_guild:
        await _refuse(interaction, TEAM_REFUSAL)
        return False
    return True


async def _refuse(interaction: discord.Interaction[discord.Client], text: str) -> None:
    _log.info(
        "refused /%s for interaction %s",
        interaction.command.qualified_name if interaction.command else "?",
        interaction.id,
    )
    await interaction.response.send_message(
        text, ephemeral=interaction.guild_id is not None, allowed_mentions=NO_MENTIONS
    )


@app_commands.describe(
    channel="Where the daily routine and weekly digest go",
    time="HH:MM (24 h) for the daily post",
    zone="The team's time zone, e.g. Europe/Berlin",
)
@app_commands.autocomplete(zone=_zone_autocomplete)
async def _team_setup(
    interaction: discord.Interaction[discord.Client],
    channel: app_commands.Transform[app_commands.AppCommandChannel, PostChannel],
    time: str,
    zone: str | None = None,
) -> None:
    if await _team_allowed(interaction):
        text = _command_text(interaction, channel.id, time.strip(), (zone or "").strip())
        await _run(interaction, text)


async def _team_plain(interaction: discord.Interaction[discord.Client]) -> None:
    if await _team_allowed(interaction):
        await _run(interaction, _command_text(interaction))


@app_commands.describe(choice="on: team posts may name you; off: they never do")
@app_commands.choices(
    choice=[
        app_commands.Choice(name="on", value="on"),
        app_commands.Choice(name="off", value="off"),
    ]
)
async def _team_name(interaction: discord.Interaction[discord.Client], choice: str) -> None:
    # Everyone's own choice, so not under `/team` (managers only). In a server it is for that
    # server's team; in the bot's DM for every team the person is in.
    await _run(interaction, f"/team name {choice}")


_CALLBACKS: dict[str, Callable[..., Any]] = {
    "checkin": _checkin,
    "remind": _remind,
    "snooze": _snooze,
    "pause": _pause,
    "exercise": _exercise,
    "summary": _summary,
}


class CoachTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self,
        interaction: discord.Interaction[discord.Client],
        error: app_commands.AppCommandError,
        /,
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        _log.warning(
            "slash command /%s failed on interaction %s: %s", name, interaction.id, type(error)
        )
        if not interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(
                    OPTION_ERROR, ephemeral=interaction.guild_id is not None
                )


def build_tree(client: discord.Client) -> CoachTree:
    """The slash commands: the same names as `COMMANDS`, `/team` as a group for managers, and
    `/teamname` for everyone (the core's "/team name on|off")."""
    tree = CoachTree(client)
    for command in COMMANDS:
        if command.name == "team":
            continue
        callback = _CALLBACKS.get(command.name, _plain)
        tree.add_command(
            app_commands.Command(
                name=command.name, description=command.description, callback=callback
            )
        )
    team = app_commands.Group(
        name="team",
        description=_describe("team"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    team.add_command(
        app_commands.Command(
            name="setup", description="Daily routine post and weekly digest", callback=_team_setup
        )
    )
    team.add_command(
        app_commands.Command(name="off", description="Stop the team posts", callback=_team_plain)
    )
    team.add_command(
        app_commands.Command(
            name="show", description="Show the team channel settings", callback=_team_plain
        )
    )
    tree.add_command(team)
    tree.add_command(
        app_commands.Command(
            name=TEAM_NAME_COMMAND,
            description="Whether team posts may show your name (on/off)",
            callback=_team_name,
        )
    )
    return tree


def tree_fingerprint(tree: app_commands.CommandTree[Any]) -> str:
    """A hash of the JSON Discord receives on a sync: equal hashes mean nothing to sync."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    payload.sort(key=lambda item: str(item.get("name")))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def default_sync_state_path() -> Path:
    return Path(user_data_dir("mobility-coach", appauthor=False)) / "discord-commands.json"


def _read_sync_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items()}


def _write_sync_state(path: Path, application_id: int, fingerprint: str) -> None:
    state = _read_sync_state(path)
    state[str(application_id)] = fingerprint
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


# --------------------------------------------------------------------------------------------
# The client


class _NoCoach:
    """Stands in when the client only syncs commands."""

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return []

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        return None


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
        known = _read_sync_state(self.sync_state_path).get(str(application_id))
        if known == fingerprint and not force:
            _log.info("slash commands unchanged; not syncing")
            return False
        synced = await self.tree.sync()
        self.synced_commands = len(synced)
        _write_sync_state(self.sync_state_path, application_id, fingerprint)
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
                await _send_to(message.channel, reply)
        except discord.HTTPException as exc:
            _log.warning("could not answer message %s (HTTP %s)", message.id, exc.status)
        except (aiohttp.ClientError, OSError) as exc:  # OSError covers TimeoutError
            _log.warning("could not answer message %s (%s)", message.id, type(exc).__name__)

    async def _ask(self, incoming: Incoming, what: str) -> list[Reply]:
        """The coach's replies, then anything we failed to DM this person before."""
        try:
            replies = list(await self.coach.handle(incoming))
        except Exception as exc:
            # The type and frames only: an exception's message may quote what the person typed.
            _log.error(
                "coach failed on %s: %s\n%s",
                what,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            replies = [Reply(text=COACH_ERROR, private=True)]
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
        for reply in replies:
            message = _Message(reply)
            if message.empty:
                continue
            for chunk in message.leading:
                await followup.send(chunk, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
                sent = True
            file = message.file()
            if reply.edit and can_edit and not edited and not message.leading:
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
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
            )
            sent = True
        if not sent and interaction.type is discord.InteractionType.application_command:
            # Nothing to say: do not leave the "thinking..." placeholder behind.
            await interaction.delete_original_response()


class DiscordSender:
    """Messages nobody asked for just now: reminders by DM, team posts and digests in channels."""

    platform = Platform.DISCORD

    def __init__(self, client: CoachClient, coach: CoachPort | None = None) -> None:
        self.client = client
        self.coach = coach or client.coach

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        try:
            user_id = int(user_ref)
        except ValueError:
            return Delivery.FAILED
        try:
            channel = await self.client.create_dm(discord.Object(user_id))
            for reply in replies:
                await _send_to(channel, reply)
        except discord.Forbidden as exc:
            # 50007: this person does not accept DMs from us (or blocked the bot).
            _log.info("cannot DM user %s (code %s): marking unreachable", user_ref, exc.code)
            await self.coach.mark_unreachable(Platform.DISCORD, user_ref)
            self.client.remember_undelivered(user_ref, replies)
            return Delivery.UNREACHABLE
        except Exception as exc:
            return _delivery_for(exc, "user", user_ref)
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        try:
            channel_id = int(channel_ref)
        except ValueError:
            return Delivery.FAILED
        public = [reply for reply in replies if not reply.private]
        if len(public) < len(replies):
            _log.warning(
                "dropped %d private replies meant for a channel", len(replies) - len(public)
            )
        if not public:
            return Delivery.FAILED
        channel = self.client.get_partial_messageable(channel_id, type=discord.ChannelType.text)
        try:
            for reply in public:
                await _send_to(channel, reply)
        except Exception as exc:
            return _delivery_for(exc, "channel", channel_ref)
        return Delivery.SENT


def _delivery_for(exc: Exception, kind: str, ref: str) -> Delivery:
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        _log.info("%s %s unreachable (HTTP %s)", kind, ref, exc.status)
        return Delivery.UNREACHABLE
    if isinstance(exc, discord.RateLimited | discord.DiscordServerError):
        _log.info("sending to %s %s: try again later (%s)", kind, ref, type(exc).__name__)
        return Delivery.RETRY
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429 or exc.status >= 500:
            return Delivery.RETRY
        _log.warning("sending to %s %s failed (HTTP %s code %s)", kind, ref, exc.status, exc.code)
        return Delivery.FAILED
    if isinstance(exc, aiohttp.ClientError | OSError):
        _log.info("sending to %s %s: network error %s", kind, ref, type(exc).__name__)
        return Delivery.RETRY
    if isinstance(exc, discord.ClientException):
        # Not connected yet, or closing.
        return Delivery.RETRY
    raise exc


# --------------------------------------------------------------------------------------------
# Entry points


def _no_debug(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO


def _quiet_library_logs() -> None:
    """discord.py logs request bodies (message text), webhook URLs (interaction tokens) and
    whole gateway events at DEBUG: drop those records whatever level the app runs at."""
    for name in ("discord.http", "discord.webhook.async_", "discord.gateway", "discord.state"):
        logger = logging.getLogger(name)
        if _no_debug not in logger.filters:
            logger.addFilter(_no_debug)


def _token(settings: Settings) -> str:
    if settings.discord_token is None:
        raise ValueError("COACH_DISCORD_TOKEN is not set")
    return settings.discord_token.get_secret_value()


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
    _quiet_library_logs()
    return CoachClient(
        coach,
        exercise_names=exercise_names,
        sync_state_path=sync_state_path,
        command_sync=command_sync,
        guild_ready_timeout=guild_ready_timeout,
    )


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
    token = _token(settings)
    client = client or build_client(settings, coach, exercise_names=exercise_names)
    async with client:
        runner = asyncio.create_task(client.start(token), name="discord-client")
        stopper = asyncio.create_task(stop.wait(), name="discord-stop")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            stopper.cancel()
            runner.result()  # re-raise a login or gateway failure
            return
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def sync_commands(settings: Settings, *, sync_state_path: Path | None = None) -> int:
    """Push the slash commands to Discord now (the `coach discord sync` CLI). Returns how many."""
    client = build_client(
        settings, _NoCoach(), sync_state_path=sync_state_path, command_sync="force"
    )
    async with client:
        await client.login(_token(settings))  # runs setup_hook, which syncs
    return client.synced_commands or 0
