"""The exercise pictures end to end, on both loopback platforms with the real coach: the routine's
album before its text, /exercise's still with a short caption and "More" then the animation,
the crossed-out toe-touch beside the hinge, and in groups the starter routine's pictures with
nothing personal or private coming with them. What arrives is checked as uploaded: how many
files, their content type, the picture's pixel size read from the file's own header, and the
alt text beside each (Telegram: the caption; Discord: the embed's and the attachment's
description).
"""

from __future__ import annotations

import html
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from bot.bootstrap import build_coach
from bot.config import Settings
from bot.core.content import Library, Phase
from bot.core.texts import exercise_caption
from bot.pictures.describe import animation_alt, avoid_alt, still_alt
from bot.pictures.style import ANIMATION_PX, STILL_PX
from storage.models import Person
from tests.chat import FakeClock
from tests.e2e.fake_discord import EPHEMERAL, FakeDiscord, buttons
from tests.e2e.fake_telegram import TOKEN, Call, FakeTelegram
from tests.e2e.test_discord import (
    ANN,
    BEN,
    GUILD,
    _onboard,
    _press_label,
    answers,
    assert_no_public_health_data,
    message_of,
    running,
)
from tests.e2e.test_telegram import ANA, GROUP, button, is_to, onboard
from tests.e2e.test_telegram import BEN as BEN_TG
from tests.e2e.test_telegram import running as running_telegram


@pytest.fixture
async def tg_fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def tg_settings(tg_fake: FakeTelegram, tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3",
        telegram_token=SecretStr(TOKEN),
        telegram_api_url=tg_fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def dc_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    with server.patch():
        yield server
    await server.stop()


@pytest.fixture
def dc_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/c.sqlite3", discord_token="x")


async def real_coach(settings: Settings) -> Any:
    return await build_coach(settings, clock=FakeClock())


@pytest.fixture
async def tg_coach(tg_settings: Settings) -> AsyncIterator[Any]:
    coach = await real_coach(tg_settings)
    yield coach
    await coach.close()


@pytest.fixture
async def dc_coach(dc_settings: Settings) -> AsyncIterator[Any]:
    coach = await real_coach(dc_settings)
    yield coach
    await coach.close()


PNG = b"\x89PNG\r\n\x1a\n"
MIN_BYTES, MAX_BYTES = 5_000, 500_000  # a real drawing, small enough for a phone on mobile data


def png_size(head: bytes) -> tuple[int, int]:
    assert head.startswith(PNG), head[:8]
    width, height = struct.unpack(">II", head[16:24])  # the IHDR chunk
    return width, height


def gif_size(head: bytes) -> tuple[int, int]:
    assert head[:6] in (b"GIF87a", b"GIF89a"), head[:6]
    width, height = struct.unpack("<HH", head[6:10])  # the logical screen
    return width, height


def stills_of(library: Library, phase: Phase) -> list[str]:
    """The alt texts of a phase's album, in routine order."""
    return [still_alt(library.exercise(item.exercise)) for item in phase.routine]


def ids_of(library: Library, phase: Phase) -> list[str]:
    return [item.exercise for item in phase.routine]


async def raise_phase(coach: Any) -> None:
    """Everyone in phase 2 on a lighter dose: things a group must not see."""
    async with coach.sessions() as session, session.begin():
        await session.execute(update(Person).values(phase_index=1, lighter_dose=True))


# --------------------------------------------------------------------------- Telegram


async def said(fake: FakeTelegram, user: int, text: str, chat_id: int | None = None) -> int:
    mark = fake.mark()
    fake.inject_update(fake.message(user, text, chat_id=chat_id))
    return mark


def check_album(album: Call, alts: list[str], ids: list[str]) -> None:
    assert len(album.files) == len(alts) == len(ids)
    for upload, exercise_id in zip(album.files, ids, strict=True):
        assert upload["content_type"] == "image/png"
        assert upload["filename"].startswith(f"{exercise_id}-")
        assert png_size(upload["head"]) == STILL_PX
        assert MIN_BYTES < upload["size"] < MAX_BYTES
    assert album.captions == alts  # Telegram has no alt field: the alt text is the caption


async def test_telegram_routine_album_comes_before_a_one_screen_text(
    tg_fake: FakeTelegram, tg_settings: Settings, tg_coach: Any
) -> None:
    fake, library = tg_fake, tg_coach.library
    phase = library.default_program().phases[0]
    async with running_telegram(fake, tg_settings, tg_coach):
        await onboard(fake, ANA)
        mark = await said(fake, ANA, "/routine")
        text = await fake.wait_for("sendMessage", lambda p: "Phase 1" in p["text"], since=mark)
    [album] = fake.calls_to("sendMediaGroup", since=mark)
    assert album.chat_id == ANA and fake.calls.index(album) < fake.calls.index(text)
    check_album(album, stills_of(library, phase), ids_of(library, phase))
    shown = html.unescape(text.text)
    assert len(shown) < 600 + len("Today's routine") + 1, len(shown)
    assert button(text, "Done")  # the buttons stay on the text: a media group takes none


async def test_telegram_sends_a_picture_again_by_its_file_id(
    tg_fake: FakeTelegram, tg_settings: Settings, tg_coach: Any
) -> None:
    """Uploaded once, then sent by the file id Telegram gave it: a warm routine uploads nothing."""
    fake, library = tg_fake, tg_coach.library
    phase = library.default_program().phases[0]
    async with running_telegram(fake, tg_settings, tg_coach):
        await onboard(fake, ANA)
        first = await said(fake, ANA, "/routine")
        await fake.wait_for("sendMessage", lambda p: "Phase 1" in p["text"], since=first)
        again = await said(fake, ANA, "/routine")
        await fake.wait_for("sendMessage", lambda p: "Phase 1" in p["text"], since=again)
    [album] = fake.calls_to("sendMediaGroup", since=again)
    assert album.reused() == len(phase.routine)  # no upload: every item by its file id
    check_album(album, stills_of(library, phase), ids_of(library, phase))  # still the stills


async def test_telegram_exercise_still_short_caption_more_and_animation(
    tg_fake: FakeTelegram, tg_settings: Settings, tg_coach: Any
) -> None:
    fake = tg_fake
    aslr = tg_coach.library.exercise("active-straight-leg-raise")
    async with running_telegram(fake, tg_settings, tg_coach):
        mark = await said(fake, ANA, "/exercise aslr")
        animation = await fake.wait_for("sendAnimation", since=mark)
        [still] = fake.calls_to("sendPhoto", since=mark)
        # "More" under the still: the full text, for whoever presses it.
        more = fake.mark()
        fake.inject_update(fake.callback(ANA, button(still, "More"), on=still))
        full = await fake.wait_for("sendMessage", lambda p: "Stop if" in p["text"], since=more)
        answered = await fake.wait_for("answerCallbackQuery", since=more)
    assert fake.calls.index(still) < fake.calls.index(animation)
    [photo] = still.files
    assert photo["content_type"] == "image/png" and png_size(photo["head"]) == STILL_PX
    assert MIN_BYTES < photo["size"] < MAX_BYTES
    caption = still.params["caption"]
    assert caption.startswith(f"<b>{aslr.name}</b>\n{html.escape(exercise_caption(aslr))}")
    assert still.params["caption"].endswith(
        f"<blockquote expandable>{html.escape(still_alt(aslr))}</blockquote>"
    )
    assert len(exercise_caption(aslr)) < 120 and "Stop if" not in caption
    [gif] = animation.files
    assert gif["content_type"] == "image/gif" and gif_size(gif["head"]) == ANIMATION_PX
    assert MIN_BYTES < gif["size"] < MAX_BYTES
    assert animation.captions == [animation_alt(aslr)]
    assert full.chat_id == ANA and "Set up:" in full.text and "Common faults:" in full.text
    assert not answered.params.get("text")  # no alert: the press went through


async def test_telegram_group_sees_the_starter_pictures_and_nothing_private(
    tg_fake: FakeTelegram, tg_settings: Settings, tg_coach: Any
) -> None:
    fake, library = tg_fake, tg_coach.library
    starter, second = library.default_program().phases[:2]
    async with running_telegram(fake, tg_settings, tg_coach):
        await onboard(fake, ANA)
        await raise_phase(tg_coach)
        mark = await said(fake, ANA, "/routine", chat_id=GROUP)
        text = await fake.wait_for("sendMessage", is_to(GROUP), since=mark)
        # Ben, a stranger here, presses "More" under a still shown in the group.
        shown = await said(fake, BEN_TG, "/exercise dead bug", chat_id=GROUP)
        still = await fake.wait_for("sendPhoto", is_to(GROUP), since=shown)
        await fake.wait_for("sendAnimation", is_to(GROUP), since=shown)
        more = fake.mark()
        fake.inject_update(fake.callback(BEN_TG, button(still, "More"), on=still))
        full = await fake.wait_for("sendMessage", lambda p: "Stop if" in p["text"], since=more)
        # Her own routine, privately: her phase, her dose, its pictures.
        own = await said(fake, ANA, "/routine")
        own_text = await fake.wait_for("sendMessage", is_to(ANA), since=own)
    [album] = fake.calls_to("sendMediaGroup", is_to(GROUP), since=mark)
    check_album(album, stills_of(library, starter), ids_of(library, starter))
    assert "Phase 1" in text.text and "Lighter" not in text.text
    assert full.chat_id == GROUP  # anyone may press it: it holds nobody's data
    [own_album] = fake.calls_to("sendMediaGroup", is_to(ANA), since=own)
    check_album(own_album, stills_of(library, second), ids_of(library, second))
    assert "Phase 2" in own_text.text and "Lighter dose today" in own_text.text
    group_calls = [c for c in fake.sent_to(GROUP)]
    assert {c.method for c in group_calls} == {
        "sendMediaGroup",
        "sendMessage",
        "sendPhoto",
        "sendAnimation",
    }
    for call in group_calls:
        words = " ".join([call.text, *call.captions]).lower()
        assert not any(w in words for w in ("phase 2", "lighter", "logged", "sessions")), words


async def test_telegram_toe_touch_shows_the_crossed_out_pair(
    tg_fake: FakeTelegram, tg_settings: Settings, tg_coach: Any
) -> None:
    fake, library = tg_fake, tg_coach.library
    [entry] = library.avoid
    alt = avoid_alt(entry, library.exercise("hip-hinge-dowel"))
    async with running_telegram(fake, tg_settings, tg_coach):
        asked = await said(fake, ANA, "should I touch my toes to stretch?")
        first = await fake.wait_for("sendPhoto", since=asked)
        command = await said(fake, ANA, "/exercise toe touch")
        second = await fake.wait_for("sendPhoto", since=command)
    for call in (first, second):
        [upload] = call.files
        assert upload["filename"].startswith("standing-toe-touch-")
        assert upload["content_type"] == "image/png" and png_size(upload["head"]) == STILL_PX
        assert "Skip the" in call.text and html.escape(alt) in call.text
    assert first.files == second.files  # drawn once, the same file


# --------------------------------------------------------------------------- Discord


def check_embeds(call: Any, alts: list[str], ids: list[str], *, gif: bool = False) -> None:
    message = message_of(call)
    assert len(call.files) == len(alts) == len(ids)
    attachments = message["attachments"]
    for (name, body), attachment, embed, alt, exercise_id in zip(
        call.files, attachments, message["embeds"], alts, ids, strict=True
    ):
        assert name.startswith(f"{exercise_id}-") and attachment["filename"] == name
        assert attachment["content_type"] == ("image/gif" if gif else "image/png")
        assert (gif_size(body) if gif else png_size(body)) == (ANIMATION_PX if gif else STILL_PX)
        assert MIN_BYTES < len(body) < MAX_BYTES
        assert embed["image"]["url"] == f"attachment://{name}"
        assert embed["description"] == alt and attachment["description"] == alt


async def test_discord_routine_embeds_before_the_text(
    dc_fake: FakeDiscord, dc_settings: Settings, dc_coach: Any, tmp_path: Path
) -> None:
    library = dc_coach.library
    phase = library.default_program().phases[0]
    async with running(dc_settings, dc_coach, tmp_path):
        await _onboard(dc_fake, ANN)
        interaction = await dc_fake.slash("routine", user=ANN)
        album, text = await answers(dc_fake, interaction, 2)
    check_embeds(album, stills_of(library, phase), ids_of(library, phase))
    assert album.index < text.index and not album.json.get("content")
    assert "Phase 1" in text.json["content"] and len(text.json["content"]) < 700
    assert "Done - check in" in buttons(message_of(text))


async def test_discord_exercise_still_short_caption_more_and_animation(
    dc_fake: FakeDiscord, dc_settings: Settings, dc_coach: Any, tmp_path: Path
) -> None:
    aslr = dc_coach.library.exercise("active-straight-leg-raise")
    async with running(dc_settings, dc_coach, tmp_path):
        interaction = await dc_fake.slash("exercise", user=ANN, guild_id=GUILD, name="aslr")
        still, animation = await answers(dc_fake, interaction, 2)
        # Another member presses "More" on Ann's (ephemeral) message: anyone may.
        [full] = await _press_label(dc_fake, int(message_of(still)["id"]), "More", BEN)
    check_embeds(still, [still_alt(aslr)], [aslr.id])
    check_embeds(animation, [animation_alt(aslr)], [aslr.id], gif=True)
    assert still.flags & animation.flags & EPHEMERAL
    content = still.json["content"]
    assert aslr.key_cues[0] in content and "Stop if" not in content and len(content) < 160
    assert "Stop if" in full.json["content"] and full.flags & EPHEMERAL
    assert dc_fake.public_guild_posts() == []


async def test_discord_server_routine_shows_the_starter_pictures_only(
    dc_fake: FakeDiscord, dc_settings: Settings, dc_coach: Any, tmp_path: Path
) -> None:
    library = dc_coach.library
    starter = library.default_program().phases[0]
    async with running(dc_settings, dc_coach, tmp_path):
        await _onboard(dc_fake, ANN)
        await raise_phase(dc_coach)
        interaction = await dc_fake.slash("routine", user=ANN, guild_id=GUILD)
        album, text = await answers(dc_fake, interaction, 2)
    check_embeds(album, stills_of(library, starter), ids_of(library, starter))
    assert album.flags & text.flags & EPHEMERAL
    assert "Phase 1" in text.json["content"] and "Lighter" not in text.json["content"]
    assert_no_public_health_data(dc_fake)
    assert all(not post.attachments for post in dc_fake.public_guild_posts())
