"""Every command the coach understands, declared once.

Each `Command` names itself, says what it does, how it is typed (`usage`, shown by /help), its
typed arguments (numbers with ranges, choices, time zones, exercises, channels) and who may use
it. Adapters build their own surface from this and nothing else: Telegram's command menu and
its admin check, Discord's slash commands with typed options and permissions, the console's
/help. Typed text ("/cmd@bot args") is read by `read_command`, the one parser for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.core.messages import Platform

MAX_PAUSE_DAYS = 90


class Who(StrEnum):
    ANYONE = "anyone"
    MANAGERS = "managers"  # Discord: Manage Server; Telegram: group admins


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"  # a whole number in [low, high]
    CHOICE = "choice"  # one of `choices`
    FLAG = "flag"  # yes/no: typed as the argument's name when set
    ZONE = "zone"  # an IANA time zone (adapters may offer completion)
    EXERCISE = "exercise"  # an exercise name (adapters may offer completion)
    CHANNEL = "channel"  # a channel of the server, typed as its id


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    description: str
    kind: Kind = Kind.TEXT
    required: bool = False
    low: int | None = None
    high: int | None = None
    choices: tuple[Choice, ...] = ()


Options = Mapping[str, object]
# How given options become the typed form's words, for commands whose form is not simply the
# arguments in order.
Compose = Callable[[Options], list[object]]


@dataclass(frozen=True, slots=True)
class Command:
    """A command the coach understands, for adapters to publish (menus, slash commands, help)."""

    name: str
    description: str
    usage: str = ""
    args: tuple[Arg, ...] = ()
    subcommands: tuple[Command, ...] = ()
    who: Who = Who.ANYONE
    compose: Compose | None = None

    def words(self, options: Options) -> list[object]:
        """The typed form's arguments for the given option values (None: not given)."""
        if self.compose is not None:
            return self.compose(options)
        words: list[object] = []
        for arg in self.args:
            value = options.get(arg.name)
            if arg.kind is Kind.FLAG:
                if value:
                    words.append(arg.name)
            else:
                words.append(value)
        return words

    def typed(self, options: Options, path: str | None = None) -> str:
        """The text the coach reads for these option values: "/checkin 3 yes 7". `path` is
        the command as typed when it is a subcommand ("team setup")."""
        given = [str(w) for w in self.words(options) if w is not None and str(w) != ""]
        return " ".join([f"/{path or self.name}", *given])

    @property
    def managed(self) -> bool:
        """Some form of it is for managers only (so an adapter checks who is asking)."""
        return self.who is Who.MANAGERS or any(s.who is Who.MANAGERS for s in self.subcommands)

    def subcommand(self, name: str) -> Command | None:
        return next((s for s in self.subcommands if s.name == name), None)


def _checkin_words(options: Options) -> list[object]:
    # The typed form is positional ("/checkin 3 yes 7"); comfort left empty means "none".
    # Partial answers are passed as typed, so the coach explains the form.
    pain, flat, comfort = options.get("pain"), options.get("flat"), options.get("comfort")
    words: list[object] = [pain, flat, comfort]
    if pain is not None and flat is not None:
        words = [pain, flat, comfort if comfort is not None else "none"]
    if options.get("leg"):
        words.append("leg")
    return words


def _summary_words(options: Options) -> list[object]:
    choice, day = options.get("choice"), options.get("day")
    if day is not None and choice is None:
        choice = "on"  # a day alone means "on, that day"
    return [choice, day if choice == "on" else None]


ON_OFF = (Choice("on", "on"), Choice("off", "off"))
WEEKDAYS = tuple(
    Choice(name, name[:3].lower())
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
)
ZONE = Arg("zone", "Your time zone, e.g. Europe/Berlin", Kind.ZONE)

TEAM = Command(
    "team",
    "Team channel: daily routine post and weekly digest",
    "setup|off|show|name on|off",
    subcommands=(
        Command(
            "setup",
            "Daily routine post and weekly digest",
            args=(
                Arg(
                    "channel",
                    "Where the daily routine and weekly digest go",
                    Kind.CHANNEL,
                    required=True,
                ),
                Arg("time", "HH:MM (24 h) for the daily post", required=True),
                Arg("zone", "The team's time zone, e.g. Europe/Berlin", Kind.ZONE),
            ),
            who=Who.MANAGERS,
        ),
        Command("off", "Stop the team posts", who=Who.MANAGERS),
        Command("show", "Show the team channel settings", who=Who.MANAGERS),
        # Everyone's own choice: whether team posts may name them.
        Command(
            "name",
            "Whether team posts may show your name (on/off)",
            args=(
                Arg(
                    "choice",
                    "on: team posts may name you; off: they never do",
                    Kind.CHOICE,
                    required=True,
                    choices=ON_OFF,
                ),
            ),
        ),
    ),
)

COMMANDS: tuple[Command, ...] = (
    Command("start", "Set up the coach: safety check, baseline, reminder time"),
    Command("routine", "Today's routine for your phase"),
    Command(
        "checkin",
        "Log how today's routine went",
        "[pain yes|mostly|no comfort|none]",
        args=(
            Arg(
                "pain",
                "Pain during the routine, 0 (none) to 10 (worst)",
                Kind.NUMBER,
                low=0,
                high=10,
            ),
            Arg(
                "flat",
                "Did your lower back stay neutral on every rep?",
                Kind.CHOICE,
                choices=(Choice("yes", "yes"), Choice("mostly", "mostly"), Choice("no", "no")),
            ),
            Arg(
                "comfort",
                "Deadlift comfort 0-10; leave empty if you did not lift",
                Kind.NUMBER,
                low=0,
                high=10,
            ),
            Arg("leg", "Pain, tingling or numbness went down a leg", Kind.FLAG),
        ),
        compose=_checkin_words,
    ),
    Command("progress", "Your phase, sessions, adherence and trend"),
    Command("report", "A one-page report to show your physiotherapist (sent privately)"),
    Command(
        "learn",
        "Short lessons about back pain",
        "[N]",
        args=(Arg("number", "The lesson to read (empty: the list)", Kind.NUMBER, low=1, high=50),),
    ),
    Command(
        "summary",
        "Weekly summary with your chart, on a day you choose",
        "on [day] | off",
        args=(
            Arg("choice", "on or off (empty: show the setting)", Kind.CHOICE, choices=ON_OFF),
            Arg("day", "The day it comes (default Sunday)", Kind.CHOICE, choices=WEEKDAYS),
        ),
        compose=_summary_words,
    ),
    Command(
        "remind",
        "Set your daily reminder",
        "HH:MM [time zone] | off",
        args=(Arg("time", "HH:MM (24 h), or off", required=True), ZONE),
    ),
    Command(
        "snooze",
        "Push today's reminder back",
        "[1h|30m]",
        args=(
            Arg(
                "delay",
                "How long to push today's reminder back",
                Kind.CHOICE,
                choices=(Choice("30 minutes", "30m"), Choice("1 hour", "1h")),
            ),
        ),
    ),
    Command(
        "pause",
        "Pause reminders and progression (injury, travel)",
        "[days]",
        args=(
            Arg(
                "days",
                "How many days to pause (empty: until /resume)",
                Kind.NUMBER,
                low=1,
                high=MAX_PAUSE_DAYS,
            ),
        ),
    ),
    Command("resume", "End a pause"),
    Command(
        "exercise",
        "One exercise in full",
        "NAME",
        args=(Arg("name", "The exercise", Kind.EXERCISE, required=True),),
    ),
    Command("privacy", "What the coach stores and why"),
    Command("export", "All your data as JSON"),
    Command("delete", "Delete everything the coach knows about you"),
    # The code is typed (in a DM on Discord): it is a secret, not a menu option.
    Command("link", "Use the coach on another chat app as the same person", "[CODE]"),
    Command("unlink", "Separate this chat from your other account"),
    Command("help", "What the coach can do"),
    TEAM,
)

BY_NAME: Mapping[str, Command] = {command.name: command for command in COMMANDS}


_CHANNEL = re.compile(r"^(?:<#(?P<mention>\d{1,20})>|(?P<id>-?\d{5,20}))$")


def read_channel(word: str) -> str | None:
    """A channel argument as typed: its id, or a mention "<#id>" as Discord writes one."""
    found = _CHANNEL.match(word)
    return (found["mention"] or found["id"]) if found else None


def spelled(group: Command, sub: Command, *, split: bool) -> str:
    """How a subcommand is typed: "team name", or "teamname" on a platform that sets
    permissions per top-level command and so gives anyone's forms of a managers' group a
    command of their own."""
    return f"{group.name}{sub.name}" if split else f"{group.name} {sub.name}"


@dataclass(frozen=True, slots=True)
class Surface:
    """What differs in how a platform shows commands and channels (the service's texts say
    "/teamname" or "/team name", "<#1>" or "this group" from this, never from the platform)."""

    split_managed: bool = False  # anyone's forms of a managers' command are commands of their own
    channel_mention: str | None = None  # how text names a channel by id, e.g. "<#{}>"
    own_channel: bool = True  # a group is its own team channel (no other channel can be named)
    channel_example: str = ""  # the channel in an example "/team setup" ("#channel ")

    def typed(self, group: Command, sub: str) -> str:
        form = group.subcommand(sub)
        return "/" + (spelled(group, form, split=self.split_managed) if form else group.name)


SURFACES: Mapping[Platform, Surface] = {
    Platform.DISCORD: Surface(
        split_managed=True, channel_mention="<#{}>", own_channel=False, channel_example="#channel "
    ),
}


def surface(platform: Platform | str) -> Surface:
    return SURFACES.get(Platform(platform), Surface())


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed command: "/Checkin@CoachBot 3 yes 7" -> name "checkin", bot "CoachBot",
    args "3 yes 7"; `word` is the command as typed ("Checkin") and `rest` all after the
    first word, verbatim."""

    name: str
    args: str
    bot: str | None
    word: str
    rest: str

    @property
    def declared(self) -> Command | None:
        return BY_NAME.get(self.name)


def read_command(text: str | None) -> Typed | None:
    """The one reader of "/cmd[@bot] args"; None when the text is not a command."""
    if not text or not text.startswith("/"):
        return None
    body = text[1:]
    cut = next((i for i, ch in enumerate(body) if ch.isspace()), len(body))
    first, rest = body[:cut], body[cut:]
    word, at, bot = first.partition("@")
    return Typed(word.lower(), rest.strip(), bot if at else None, word, rest)


def needs_manager(typed: Typed) -> bool:
    """Whether this typed command (with its first argument as a subcommand) is for managers."""
    command = typed.declared
    if command is None:
        return False
    if command.who is Who.MANAGERS:
        return True
    sub = command.subcommand(typed.args.split(maxsplit=1)[0].lower() if typed.args else "")
    return sub is not None and sub.who is Who.MANAGERS
