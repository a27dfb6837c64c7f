"""Slash commands, built from the core's declaration (`bot.core.commands.COMMANDS`).

Each declared argument becomes a typed option (numbers with their range, choices, a time zone
or exercise with autocomplete, a channel); an invocation becomes the typed text the coach
reads ("/checkin 3 yes 7"). A command's forms for managers become a group that only members
with Manage Server see, inside a server; its forms for anyone become top-level commands named
after the group and the form (`/team name` is `/teamname`), since Discord sets permissions per
top-level command.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import zoneinfo
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Protocol, runtime_checkable

import discord
from discord import app_commands

from bot.adapters.discord.render import NO_MENTIONS
from bot.core.commands import COMMANDS, TEAM, Arg, Command, Kind, Who, spelled

_log = logging.getLogger("bot.adapters.discord")

MAX_CHOICES = 25
TEAM_REFUSAL = (
    "Only people with the Manage Server permission can change the team channel. "
    "Ask a server admin, or use /routine for your own plan."
)
TEAM_DM_REFUSAL = "The team channel belongs to a server: use /team inside the server."
OPTION_ERROR = "I could not read that command's options. Please try again."

Interaction = discord.Interaction[discord.Client]
ExerciseNames = Callable[[], Iterable[str]]


@runtime_checkable
class InteractionHandler(Protocol):
    """The client side of a command: it hands the typed text to the coach."""

    exercise_names: ExerciseNames | None

    async def handle_interaction(
        self, interaction: Interaction, *, text: str | None = None, action: str | None = None
    ) -> None: ...


# "/team name on|off" as a command of its own: `/team` needs Manage Server, a name is anyone's.
_TEAM_NAME = TEAM.subcommand("name")
assert _TEAM_NAME is not None
TEAM_NAME_COMMAND = spelled(TEAM, _TEAM_NAME, split=True)


# Autocomplete ----------------------------------------------------------------------------------


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
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return _best_matches(_zone_names(), current)


async def _exercise_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    client = interaction.client
    if not isinstance(client, InteractionHandler) or client.exercise_names is None:
        return []
    try:
        names = sorted(set(client.exercise_names()), key=str.casefold)
    except Exception:
        _log.exception("exercise names callable failed")
        return []
    return _best_matches(names, current)


AUTOCOMPLETE = {Kind.ZONE: _zone_autocomplete, Kind.EXERCISE: _exercise_autocomplete}


class PostChannel(app_commands.Transformer[discord.Client]):
    """A text or announcement channel, passed on as its id (no guild cache needed)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(
        self, interaction: Interaction, value: Any, /
    ) -> app_commands.AppCommandChannel:
        if not isinstance(value, app_commands.AppCommandChannel) or (
            value.type not in self.channel_types
        ):
            raise app_commands.TransformerError(value, discord.AppCommandOptionType.channel, self)
        return value


# Typed options ---------------------------------------------------------------------------------


def _annotation(arg: Arg) -> str:
    """The option's type, as discord.py reads it from a callback's signature."""
    if arg.kind is Kind.NUMBER:
        kind = f"app_commands.Range[int, {arg.low}, {arg.high}]"
    elif arg.kind is Kind.FLAG:
        return "bool"
    elif arg.kind is Kind.CHANNEL:
        kind = "app_commands.Transform[app_commands.AppCommandChannel, PostChannel]"
    else:
        kind = "str"
    return kind if arg.required else f"{kind} | None"


def _option_value(value: object) -> object:
    if isinstance(value, app_commands.AppCommandChannel):
        return value.id
    if isinstance(value, str):
        return value.strip()
    return value


async def _run(interaction: Interaction, text: str) -> None:
    client = interaction.client
    if isinstance(client, InteractionHandler):
        await client.handle_interaction(interaction, text=text)


async def _managers_only(interaction: Interaction) -> bool:
    if interaction.guild_id is None:
        await _refuse(interaction, TEAM_DM_REFUSAL)
        return False
    if not interaction.permissions.manage_guild:
        await _refuse(interaction, TEAM_REFUSAL)
        return False
    return True


async def _refuse(interaction: Interaction, text: str) -> None:
    _log.info(
        "refused /%s for interaction %s",
        interaction.command.qualified_name if interaction.command else "?",
        interaction.id,
    )
    await interaction.response.send_message(
        text, ephemeral=interaction.guild_id is not None, allowed_mentions=NO_MENTIONS
    )


def _callback(command: Command, path: str) -> Callable[..., Coroutine[Any, Any, None]]:
    """A callback whose signature declares the command's arguments as typed options."""

    async def callback(interaction: Interaction, **options: object) -> None:
        if command.who is Who.MANAGERS and not await _managers_only(interaction):
            return
        values = {name: _option_value(value) for name, value in options.items()}
        await _run(interaction, command.typed(values, path))

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("interaction", kind, annotation="discord.Interaction")]
    for arg in command.args:
        default: object = False if arg.kind is Kind.FLAG else None
        parameters.append(
            inspect.Parameter(
                arg.name,
                kind,
                default=inspect.Parameter.empty if arg.required else default,
                annotation=_annotation(arg),
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = path.replace(" ", "_")
    if command.args:
        app_commands.describe(**{arg.name: arg.description for arg in command.args})(callback)
    choices = {
        arg.name: [app_commands.Choice(name=c.label, value=c.value) for c in arg.choices]
        for arg in command.args
        if arg.choices
    }
    if choices:
        app_commands.choices(**choices)(callback)
    completions = {a.name: AUTOCOMPLETE[a.kind] for a in command.args if a.kind in AUTOCOMPLETE}
    if completions:
        app_commands.autocomplete(**completions)(callback)
    return callback


def _slash(
    command: Command, path: str, name: str | None = None
) -> app_commands.Command[Any, ..., None]:
    return app_commands.Command(
        name=name or command.name,
        description=command.description,
        callback=_callback(command, path),
    )


# The tree --------------------------------------------------------------------------------------


class CoachTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self,
        interaction: Interaction,
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
    """One slash command per declared command; a command with forms for managers becomes a
    group for managers plus a top-level command per form for anyone."""
    tree = CoachTree(client)
    for command in COMMANDS:
        if not command.subcommands:
            tree.add_command(_slash(command, command.name))
            continue
        managers = [s for s in command.subcommands if s.who is Who.MANAGERS]
        group = app_commands.Group(
            name=command.name,
            description=command.description,
            guild_only=True,
            default_permissions=discord.Permissions(manage_guild=True),
        )
        for sub in managers:
            group.add_command(_slash(sub, f"{command.name} {sub.name}"))
        tree.add_command(group)
        for sub in command.subcommands:
            if sub.who is not Who.MANAGERS:
                tree.add_command(
                    _slash(
                        sub, f"{command.name} {sub.name}", name=spelled(command, sub, split=True)
                    )
                )
    return tree
