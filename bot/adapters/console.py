"""The coach in a terminal: buttons become numbered choices. Scriptable when stdin is a pipe."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.core.messages import Button, Incoming, Platform, Reply
from bot.core.numbers import whole_number
from bot.ports import CoachPort, Delivery

MAX_CHOICE_DIGITS = 3  # more choices than a screen holds


class ConsoleChat:
    def __init__(self, coach: CoachPort, user: str, out: TextIO = sys.stdout) -> None:
        self.coach = coach
        self.user = user
        self.out = out
        self.choices: list[Button] = []

    def to_incoming(self, line: str) -> Incoming:
        """A label or a number picks one of the last choices; anything else is typed text.

        On a scale (buttons labelled with numbers) a typed number is the value, never a
        position: "11" on a 0-10 question goes to the coach, which asks again."""
        typed = line.strip()
        chosen = next((b for b in self.choices if b.label.lower() == typed.lower()), None)
        scale = any(whole_number(b.label, MAX_CHOICE_DIGITS) is not None for b in self.choices)
        position = None if scale else whole_number(typed, MAX_CHOICE_DIGITS)
        if chosen is None and position is not None and 1 <= position <= len(self.choices):
            chosen = self.choices[position - 1]
        base = {
            "platform": Platform.CONSOLE,
            "user_ref": self.user,
            "chat_ref": self.user,
            "is_private": True,
            "display_name": self.user,
        }
        if chosen is not None:
            return Incoming(**base, action=chosen.action)  # type: ignore[arg-type]
        return Incoming(**base, text=line.rstrip("\n"))  # type: ignore[arg-type]

    def show(self, replies: Sequence[Reply]) -> None:
        choices: list[Button] = []
        for reply in replies:
            if reply.title:
                self.out.write(f"== {reply.title} ==\n")
            for picture in reply.pictures:  # a terminal shows no pictures: where, and what
                self.out.write(f"(picture: {picture.path} - {picture.alt})\n")
            if reply.text or not reply.pictures:
                self.out.write(reply.text + "\n")
            if reply.image is not None:
                self.out.write(f"(picture saved to {reply.image})\n")
            if reply.document is not None:
                self.out.write(f"(document saved to {reply.document})\n")
            for row in reply.buttons:
                labels = []
                for button in row:
                    choices.append(button)
                    labels.append(f"[{len(choices)}] {button.label}")
                self.out.write("  " + "   ".join(labels) + "\n")
            self.out.write("\n")
        if choices or replies:
            self.choices = choices
        self.out.flush()

    async def say(self, line: str) -> list[Reply]:
        replies = await self.coach.handle(self.to_incoming(line))
        self.show(replies)
        return replies

    async def run(self, stdin: TextIO = sys.stdin) -> None:
        interactive = stdin.isatty()
        if interactive:
            self.out.write(
                "mobility-coach console. Type /start to begin, /help for commands, "
                "Ctrl-D to leave.\n\n"
            )
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                self.out.write("you> ")
                self.out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if not line.strip() and not interactive:
                continue
            if not interactive:
                self.out.write(f"> {line.rstrip()}\n")
            await self.say(line)


class ConsoleSender:
    """Reminders in `coach chat` are printed in the terminal."""

    platform = Platform.CONSOLE

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send_to_person(self, user_ref: str, replies: Sequence[Reply]) -> Delivery:
        if user_ref != self.chat.user:
            return Delivery.UNREACHABLE
        self.chat.show(replies)
        return Delivery.SENT

    async def send_to_channel(self, channel_ref: str, replies: Sequence[Reply]) -> Delivery:
        return Delivery.UNREACHABLE
