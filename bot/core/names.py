"""A person's display name as a team channel may show it.

The name comes from the chat platform and is chosen by the person, so it is untrusted text that
ends up in a message everybody in the channel reads. `public_name` keeps letters, digits, marks,
emoji and spaces (plus ' and - inside names such as O'Neil or Jean-Luc) and drops everything
else, so no name can ping (@everyone, @here, <@id>, <#id>, <@&id>, a Telegram @username), link
(t.me/..., example.com), format (markdown, HTML) or reorder the text (bidi and zero-width marks).
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 32
_INNER = frozenset("'-")
_KEPT_CATEGORIES = ("L", "M", "N", "So", "Sk")
_TRIM = " '-"


def _kept(char: str, punctuation: frozenset[str] = _INNER) -> str:
    if char.isspace():
        return " "
    if char.isascii():
        return char if char.isalnum() or char in punctuation else ""
    category = unicodedata.category(char)
    if category == "Zs":
        return " "
    return char if category.startswith(_KEPT_CATEGORIES) else ""


def public_name(raw: str, limit: int = MAX_NAME, punctuation: frozenset[str] = _INNER) -> str:
    """The name cleaned for a channel, at most `limit` characters ("" when nothing is left).
    `punctuation`: the ASCII marks kept besides letters and digits (other text, such as a
    person's own words for an activity, may keep a few more)."""
    # NFKC first: a full-width ＠ or a ligature becomes the plain character it looks like.
    normal = unicodedata.normalize("NFKC", raw[: limit * 8])
    text = "".join(_kept(char, punctuation) for char in normal)
    text = " ".join(text.split()).strip(_TRIM)
    return text[:limit].rstrip(_TRIM)
