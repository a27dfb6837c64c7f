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
    `keep` marks a private reply the person keeps (the /report page and PDF): asked in a group,
    it goes to their private chat even where the platform could answer privately in place with
    a message that vanishes (Discord's ephemeral ones).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    private: bool = False
    edit: bool = False
    image: Path | None = None
    # A file to send as a document (the /report PDF); `text` is its caption.
    document: Path | None = None
    title: str | None = None
    # A short notice about the button press itself (a toast / callback answer), not a message.
    alert: bool = False
    # Exercise pictures sent with the text (an album / embeds with attachments); none: text only.
    pictures: tuple[Picture, ...] = ()
    keep: bool = False

    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]
