"""One message where one will do: consecutive replies of a turn joined when nothing is lost.

A platform limits how many messages a bot may send (Telegram about 30 a second), so at scale
that limit comes before the database. A use case may say things in several replies ("Nice
work." then the first question); `join_replies` makes them one message when:

- both are plain text: no picture, image, document or alert (a toast is not a message);
- the earlier one has no buttons (buttons stay under the text they belong to, at the end);
- both are private, or both public (health data never rides along with a group message);
- at most one has a title: it stays on top of the joined message, as a heading does;
- the joined text fits one message on every platform (`MESSAGE_LIMIT`), so no adapter splits
  it again and an edit stays one edit;
- `edit` carries over: the joined message replaces the pressed question if either did.

A routine's pictures stay their own message before its text (Telegram takes no buttons on an
album, and the pictures come first on both platforms). A text said before the pictures moves
after them, into the text that follows them, when it could join that text: the person reads
the same words in the same order, only the pictures come first ("Thanks, 2/10 noted." then the
album then the routine becomes the album, then the routine's text starting with the thanks).
A text that edits a question does not move: the question sits above the pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Reply

# Discord's 2000 characters, the smallest of the platforms' (Telegram's is 4096).
MESSAGE_LIMIT = 2000
# Characters Discord escapes with a backslash (the coach writes plain text): each counts twice.
_ESCAPED = frozenset("\\*_`~|>#-[")
SEPARATOR = "\n\n"


def shown_length(text: str, title: str | None = None) -> int:
    """The most characters `text` under `title` takes on any platform (escapes counted)."""
    shown = f"{title}\n{text}" if title else text
    return len(shown) + sum(shown.count(c) for c in _ESCAPED)


def join_replies(replies: Sequence[Reply]) -> list[Reply]:
    """The same replies, consecutive ones joined where that loses nothing (see the module)."""
    joined: list[Reply] = []
    for reply in replies:
        together = _join(joined[-1], reply) if joined else None
        if together is not None:
            joined[-1] = together
            continue
        if len(joined) >= 2 and _only_pictures(joined[-1], reply.private):
            moved = _join(joined[-2], reply) if _may_move(joined[-2], reply) else None
            if moved is not None:  # the text said before the pictures now follows them
                joined[-2:] = [joined[-1], moved]
                continue
        joined.append(reply)
    return joined


def _plain(reply: Reply) -> bool:
    return (
        not reply.pictures
        and reply.image is None
        and reply.document is None
        and not reply.alert
        and not reply.keep
    )


def _join(first: Reply, then: Reply) -> Reply | None:
    if (
        first.buttons
        or first.private != then.private
        or (first.title and then.title)
        or not _plain(first)
        or not _plain(then)
    ):
        return None
    text = SEPARATOR.join(t for t in (first.text, then.text) if t)
    title = first.title or then.title
    if shown_length(text, title) > MESSAGE_LIMIT:
        return None
    return Reply(
        text,
        buttons=then.buttons,
        private=then.private,
        edit=first.edit or then.edit,
        title=title,
    )


def _only_pictures(reply: Reply, private: bool) -> bool:
    """A routine's album: pictures and nothing else, as private as what follows it."""
    return bool(
        reply.pictures
        and not reply.text
        and not reply.title
        and not reply.buttons
        and not reply.edit
        and reply.image is None
        and reply.document is None
        and not reply.alert
        and reply.private == private
    )


def _may_move(before: Reply, after: Reply) -> bool:
    """A text may move past pictures into the text after them unless either replaces the
    pressed question: that message sits above the pictures."""
    return not before.edit and not after.edit
