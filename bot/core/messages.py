"""The platform-neutral conversation model: what comes in from a chat and what goes back.

Adapters map their platform's updates to `Incoming` and render `Reply`; nothing here knows
about Telegram, Discord or the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal


class Platform(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"
    DISCORD = "discord"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: typed `text` (a command or an answer) or pressed `action`."""

    platform: Platform
    user_ref: str
    chat_ref: str
    is_private: bool
    display_name: str = ""
    text: str | None = None
    action: str | None = None
    # The server or group the chat belongs to (Discord guild id, Telegram group chat id).
    group_ref: str = ""
    # The person may change the group's settings (Discord Manage Server, Telegram group admin).
    can_manage: bool = False


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    # A short versioned payload such as "v1:ci:pain:7:42"; at most 64 bytes (Telegram's limit).
    action: str


@dataclass(frozen=True, slots=True)
class Picture:
    """A drawing of an exercise: a PNG still or a looping GIF, with its alt text."""

    path: Path
    alt: str
    kind: Literal["still", "animation"] = "still"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message for the person.

    `private` marks health data (pain, red flags, check-ins): an adapter must never show it in a
    group or team channel and sends it to the person's private chat instead (or ephemerally).
    `edit` says the reply continues the question the pressed button belonged to, so an adapter
    that can edit messages replaces that message instead of stacking a new one.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    private: bool = False
    edit: bool = False
    image: Path | None = None
    title: str | None = None
    # A short notice about the button press itself (a toast / callback answer), not a message.
    alert: bool = False
    # Exercise pictures sent with the text (an album / embeds with attachments); none: text only.
    pictures: tuple[Picture, ...] = ()

    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True, slots=True)
class Command:
    """A command the coach understands, for adapters to publish (setMyCommands, slash commands)."""

    name: str
    description: str
    usage: str = ""
    group_ok: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("start", "Set up the coach: safety check, baseline, reminder time"),
    Command("routine", "Today's routine for your phase", group_ok=True),
    Command("checkin", "Log how today's routine went", "[pain yes|mostly|no comfort|none]"),
    Command("progress", "Your phase, sessions, adherence and trend"),
    Command("summary", "Weekly summary with your chart, on a day you choose", "on [day] | off"),
    Command("remind", "Set your daily reminder", "HH:MM [time zone] | off"),
    Command("snooze", "Push today's reminder back", "[1h|30m]"),
    Command("pause", "Pause reminders and progression (injury, travel)", "[days]"),
    Command("resume", "End a pause"),
    Command("exercise", "One exercise in full", "NAME", group_ok=True),
    Command("privacy", "What the coach stores and why", group_ok=True),
    Command("export", "All your data as JSON"),
    Command("delete", "Delete everything the coach knows about you"),
    Command("link", "Use the coach on another chat app as the same person", "[CODE]"),
    Command("unlink", "Separate this chat from your other account"),
    Command("help", "What the coach can do", group_ok=True),
    Command(
        "team",
        "Team channel: daily routine post and weekly digest",
        "setup|off|show|name on|off",
        group_ok=True,
    ),
)
