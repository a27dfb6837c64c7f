"""One message where one will do: the rules of `join_replies`, then a property over any turn."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import MAX_CONTENT
from bot.adapters.telegram.render import TEXT_LIMIT
from bot.core.joining import MESSAGE_LIMIT, SEPARATOR, join_replies, shown_length
from bot.core.messages import Button, Picture, Reply

SCORES = ((Button("0", "v1:ci:pain:0:1"), Button("1", "v1:ci:pain:1:1")),)
DONE = ((Button("Done - check in", "v1:rt:done:1:0"),),)
ALBUM = Reply("", pictures=(Picture(Path("a.png"), "a"), Picture(Path("b.png"), "b")), private=True)


def said(text: str, **kwargs: object) -> Reply:
    return Reply(text, private=True, **kwargs)  # type: ignore[arg-type]


def test_a_word_before_a_question_is_one_message_with_the_questions_buttons() -> None:
    joined = join_replies([said("Nice work."), said("How much did it hurt?", buttons=SCORES)])
    assert joined == [said("Nice work.\n\nHow much did it hurt?", buttons=SCORES)]


def test_a_reply_with_buttons_keeps_them_at_its_end() -> None:
    question = said("How much did it hurt?", buttons=SCORES)
    assert join_replies([question, said("Take your time.")]) == [question, said("Take your time.")]


def test_private_and_public_never_share_a_message() -> None:
    replies = [Reply("I'll send your report privately."), said("Your report.")]
    assert join_replies(replies) == replies
    assert join_replies(list(reversed(replies))) == list(reversed(replies))


def test_a_title_stays_on_top_and_two_titles_stay_apart() -> None:
    assert join_replies([said("Paused.", title="Note"), said("Phase 1")]) == [
        said("Paused.\n\nPhase 1", title="Note")
    ]
    assert join_replies([said("Paused."), said("Phase 1", title="Today's routine")]) == [
        said("Paused.\n\nPhase 1", title="Today's routine")
    ]
    two = [said("Week", title="Summary"), said("Lessons", title="Lessons")]
    assert join_replies(two) == two


def test_pictures_images_documents_alerts_and_replies_to_keep_stay_their_own_message() -> None:
    for other in (
        said("chart", image=Path("c.png")),
        said("report", document=Path("r.pdf")),
        said("That button isn't valid any more.", alert=True),
        said("Hinge", pictures=(Picture(Path("h.png"), "hinge"),)),
        said("Your report, to keep.", keep=True),  # goes elsewhere on Discord: the DM
    ):
        assert join_replies([said("First"), other]) == [said("First"), other]
        assert join_replies([other, said("Then")]) == [other, said("Then")]


def test_the_pictures_come_first_and_the_word_before_them_moves_into_their_text() -> None:
    routine = said("Phase 1 of 3", title="Today's routine", buttons=DONE)
    joined = join_replies([said("Thanks, 2/10 noted."), ALBUM, routine])
    assert joined == [
        ALBUM,
        said("Thanks, 2/10 noted.\n\nPhase 1 of 3", title="Today's routine", buttons=DONE),
    ]
    assert join_replies([ALBUM, routine]) == [ALBUM, routine]  # an album takes no buttons


def test_a_word_that_edits_a_question_does_not_move_past_the_pictures() -> None:
    routine = said("Phase 1 of 3", buttons=DONE)
    kept = [said("Thanks.", edit=True), ALBUM, routine]
    assert join_replies(kept) == kept
    edits = [said("Thanks."), ALBUM, said("Phase 1 of 3", buttons=DONE, edit=True)]
    assert join_replies(edits) == edits
    public_album = Reply("", pictures=ALBUM.pictures)
    assert join_replies([said("Thanks."), public_album, routine]) == [
        said("Thanks."),
        public_album,
        routine,
    ]


def test_an_edit_carries_over_to_the_joined_message() -> None:
    assert join_replies([said("Checked.", edit=True), said("Pain?", buttons=SCORES)]) == [
        said("Checked.\n\nPain?", buttons=SCORES, edit=True)
    ]
    assert join_replies([said("Noted."), said("Pain?", buttons=SCORES, edit=True)]) == [
        said("Noted.\n\nPain?", buttons=SCORES, edit=True)
    ]


def test_buttons_alone_go_under_the_text_before_them() -> None:
    assert join_replies([said("Pick one"), said("", buttons=SCORES)]) == [
        said("Pick one", buttons=SCORES)
    ]


def test_the_joined_text_fits_the_smallest_platform_with_escapes_counted() -> None:
    assert min(MAX_CONTENT, TEXT_LIMIT) >= MESSAGE_LIMIT
    half = "x" * ((MESSAGE_LIMIT - len(SEPARATOR)) // 2)
    assert len(join_replies([said(half), said(half)])) == 1
    assert len(join_replies([said(half), said(half + "xx")])) == 2
    stars = "*" * 600  # Discord shows each as "\*": 1200 characters
    assert shown_length(stars) == 1200
    assert len(join_replies([said(stars), said(stars)])) == 2
    assert shown_length("x", "Title") == len("Title\nx")


# --------------------------------------------------------------------------- any turn

KINDS = ("text", "text", "text", "album", "image", "alert")


@st.composite
def turns(draw: st.DrawFn) -> list[Reply]:
    """A turn's replies; each text starts with its own token so it can be followed."""
    replies = []
    for i in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(KINDS))
        private = draw(st.booleans())
        if kind == "album":
            replies.append(Reply("", pictures=ALBUM.pictures, private=private))
            continue
        # Short or long (joined, two long ones pass the limit), with characters Discord escapes.
        piece = draw(st.text(alphabet="ab *_\n", max_size=8))
        filler = piece * draw(st.sampled_from([1, 2, 100, 200]))
        text = "" if kind == "text" and draw(st.integers(0, 5)) == 0 else f"t{i}.{filler}"
        buttons = ((Button(f"b{i}", f"v1:x:y:z:{i}"),),) if draw(st.booleans()) else ()
        replies.append(
            Reply(
                text,
                buttons=buttons,
                private=private,
                edit=draw(st.booleans()),
                title=f"T{i}" if draw(st.integers(0, 3)) == 0 else None,
                image=Path("c.png") if kind == "image" else None,
                alert=kind == "alert",
            )
        )
    return replies


def tokens(replies: list[Reply]) -> list[str]:
    """The texts' tokens in order (the filler never holds a "t" or a digit)."""
    return [token for reply in replies for token in re.findall(r"t\d+\.", reply.text)]


@settings(max_examples=300)
@given(turns())
def test_joining_loses_nothing_and_keeps_every_rule(replies: list[Reply]) -> None:
    joined = join_replies(replies)
    assert len(joined) <= len(replies)
    # No text lost or reordered; titles, pictures, images and alerts all still there, in order.
    assert tokens(joined) == tokens(replies)
    for field in ("title", "pictures", "image", "alert", "buttons"):
        assert [getattr(r, field) for r in joined if getattr(r, field)] == [
            getattr(r, field) for r in replies if getattr(r, field)
        ]
    by_token = {tokens([r])[0]: r for r in replies if tokens([r])}
    for reply in joined:
        if reply in replies:
            continue  # as it was
        assert shown_length(reply.text, reply.title) <= MESSAGE_LIMIT
        sources = [by_token[token] for token in tokens([reply])]
        # Never private with public, and an edit is never dropped.
        assert all(source.private == reply.private for source in sources)
        assert reply.edit or not any(source.edit for source in sources)
        # The buttons stay at the end: under the text they came with, nothing after it.
        owner = next((r for r in replies if reply.buttons and r.buttons == reply.buttons), None)
        if owner is not None and owner.text:
            assert reply.text.endswith(owner.text)
    assert join_replies(joined) == joined  # joined as far as it goes
