"""`public_name`: what a team channel may show of a person's self-chosen display name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.names import MAX_NAME, public_name

# Characters that ping, link or format on Telegram or Discord.
MARKUP = set('@<>#*_~`|[]()/\\:.!&;="$%{}^+,?')


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Ann", "Ann"),
        ("  Jean-Luc   O'Neil ", "Jean-Luc O'Neil"),
        ("@everyone", "everyone"),
        ("@here", "here"),
        ("<@123456789012345678>", "123456789012345678"),
        ("<@&42> <#77>", "42 77"),
        ("@ann_bot", "annbot"),
        ("**bold** __u__ ~~s~~ `code` ||spoiler||", "bold u s code spoiler"),
        ("<b>x</b> [a](https://t.me/b)", "bxb ahttpstmeb"),
        ("# Big\n-# small", "Big - small"),  # one line: no heading, no list
        ("- bullet", "bullet"),
        ("evil.example.com", "evilexamplecom"),
        ("\uff20everyone", "everyone"),  # a full-width @
        ("Ann\u202eevil\u200b", "Annevil"),  # bidi override, zero-width space
        ("Zoë 😀 Łukasz 李", "Zoë 😀 Łukasz 李"),
        ("x" * 100, "x" * MAX_NAME),
        ("@#!", ""),
    ],
)
def test_known_names(raw: str, shown: str) -> None:
    assert public_name(raw) == shown


@given(st.text(max_size=400))
def test_any_name_is_short_plain_and_stable(raw: str) -> None:
    name = public_name(raw)
    assert len(name) <= MAX_NAME
    assert not MARKUP & set(name)
    assert name == name.strip(" '-")
    assert "  " not in name and "\n" not in name
    assert public_name(name) == name
