"""The pictures in the coach's replies, on in-memory fakes: where they go, what a failed drawing
leaves (the text, which says everything), and the console printing each one's file and alt."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console import ConsoleChat
from bot.core.messages import Picture, Reply
from bot.core.texts import exercise_text, more_button
from bot.pictures.store import PictureStore
from bot.service.coach import Coach
from tests.chat import Chat
from tests.unit.service.fakes import Tables


def with_pictures(coach: Coach, folder: Path) -> Coach:
    coach.pictures = PictureStore(folder)
    return coach


async def test_a_drawing_that_fails_leaves_the_full_text(
    coach: Coach, tables: Tables, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the picture folder should be")
    chat = Chat(with_pictures(coach, blocked))
    [reply] = await chat.say("/exercise aslr")
    aslr = coach.library.exercise("active-straight-leg-raise")
    assert reply.text == exercise_text(aslr) and reply.pictures == ()
    await chat.onboard()
    [routine] = await chat.say("/routine")  # no album: the routine's text alone
    assert routine.title == "Today's routine" and not routine.pictures


async def test_more_writes_nothing_and_a_forged_one_is_refused(
    coach: Coach, tables: Tables
) -> None:
    chat = Chat(coach)
    more = more_button(coach.library.exercise("dead-bug")).action
    [full] = await chat.press_payload(more)
    assert "Stop if" in full.text and not full.alert
    assert tables.people == [] and tables.identities == []  # a stranger's press stores nothing
    [refused] = await chat.press_payload("v1:ex:more:0000000000:0")
    assert refused.alert and "isn't valid" in refused.text


def test_the_console_prints_each_picture_with_its_alt_text(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleChat(coach=None, user="sam", out=out)  # type: ignore[arg-type]
    still = Picture(tmp_path / "bird-dog.png", "Side-view drawing of the bird dog.")
    console.show([Reply("", pictures=(still,)), Reply("Today's routine")])
    assert out.getvalue().splitlines()[:2] == [
        f"(picture: {still.path} - {still.alt})",
        "",
    ]
