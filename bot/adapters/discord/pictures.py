"""A reply's exercise pictures on Discord: each an attached file shown in an embed
(`attachment://name`), the alt text as the embed's description and the attachment's own
description, all in the one message that carries the reply's text and buttons."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.core.messages import Picture

_log = logging.getLogger("bot.adapters.discord")

MAX_FILES = 10  # attachments and embeds per message
MAX_DESCRIPTION = 1024  # an attachment's description; an embed's is 4096


def files_and_embeds(pictures: Sequence[Picture]) -> tuple[list[discord.File], list[discord.Embed]]:
    files: list[discord.File] = []
    embeds: list[discord.Embed] = []
    for picture in pictures[:MAX_FILES]:
        if not picture.path.is_file():
            _log.error("a picture file is missing; left out")
            continue
        name = picture.path.name
        alt = picture.alt[:MAX_DESCRIPTION]
        files.append(discord.File(picture.path, filename=name, description=alt))
        embed = discord.Embed(description=picture.alt)
        embed.set_image(url=f"attachment://{name}")
        embeds.append(embed)
    return files, embeds
