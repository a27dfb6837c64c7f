"""Numbers people type: one strict reader for every count, score, day and minute in the coach.

Decimal digits of any script count ("٣", "३", "３" are 3); other numerals (², ½, Ⅻ, ①) do not.
`str.isdigit()`, `int()` and NFKC each draw that line elsewhere, so checking with one and
converting with another crashed on "²"; and a length bound keeps 20 digits from overflowing a
timedelta or a database integer.
"""

from __future__ import annotations

import unicodedata


def ascii_digits(text: str) -> str | None:
    """`text` with the decimal digits of any script as ASCII ("٠٧:٣٠", "０７:３０" -> "07:30"),
    or None when it holds another kind of numeral (², ½, Ⅻ, ①, 三), which no reader accepts."""
    out = []
    for ch in text:
        digit = unicodedata.decimal(ch, None)
        if digit is not None:
            out.append(str(digit))
        elif unicodedata.numeric(ch, None) is not None:
            return None
        else:
            out.append(ch)
    return "".join(out)


def whole_number(text: str, max_digits: int) -> int | None:
    """A whole number of 1 to `max_digits` digits (any script), or None. Never raises."""
    typed = text.strip()
    if not 1 <= len(typed) <= max_digits:
        return None
    value = ascii_digits(typed)
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value)
