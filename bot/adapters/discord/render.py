"""A `Reply` as Discord messages: escaped markdown, long text in pieces, components for
buttons (render-only: presses are routed by `CoachButton`), a file for an image."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.adapters.discord.pictures import files_and_embeds
from bot.adapters.toolkit import split_text
from bot.core.messages import Button, Reply

_log = logging.getLogger("bot.adapters.discord")

MAX_CONTENT = 2000  # Discord's limit for a message's content
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_LABEL = 80
NO_MENTIONS = discord.AllowedMentions.none()


def escape(text: str) -> str:
    # The coach writes plain text: show it as written, not as Discord markdown.
    return discord.utils.escape_markdown(text)


def _content_chunks(reply: Reply) -> list[str]:
    text = escape(reply.text)
    if reply.title:
        text = f"**{escape(reply.title)}**\n{text}" if text else f"**{escape(reply.title)}**"
    return split_text(text, MAX_CONTENT, strip="\n ", keep_empty_tail=True)


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


class OutgoingMessage:
    """One reply split for Discord: leading text chunks, then the last chunk with components."""

    def __init__(self, reply: Reply) -> None:
        chunks = _content_chunks(reply)
        self.leading = [chunk for chunk in chunks[:-1] if chunk]
        self.content: str | None = chunks[-1] or None
        rows = _button_rows(reply)
        self.view: ReplyView | None = ReplyView(rows) if rows else None
        self.image = reply.image or reply.document  # the /report PDF goes as a file too
        self.pictures = reply.pictures

    def file(self) -> discord.File | None:
        if self.image is None:
            return None
        return discord.File(self.image, filename=self.image.name)

    @property
    def empty(self) -> bool:
        return (
            not self.leading
            and self.content is None
            and self.view is None
            and not self.image
            and not self.pictures
        )


async def send_to(channel: discord.abc.Messageable, reply: Reply) -> None:
    message = OutgoingMessage(reply)
    if message.empty:
        return
    for chunk in message.leading:
        await channel.send(chunk, allowed_mentions=NO_MENTIONS)
    if message.pictures:
        files, embeds = files_and_embeds(message.pictures)
        await channel.send(
            message.content,
            view=message.view or discord.utils.MISSING,
            files=files,
            embeds=embeds,
            allowed_mentions=NO_MENTIONS,
        )
        return
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
