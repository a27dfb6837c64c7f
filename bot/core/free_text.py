"""Reading a message typed outside any question: red-flag signs first, then everyday intents.

Pure: the phrases come from the content library (content/phrases/), so a coach extends them in
YAML. A message and every phrase are normalised the same way (see `words`), and phrases match
whole words in order: "numb" never matches inside "numbers".

Red flags take precedence over everything, and between themselves emergency > clinician > leg.
Missing a sign is worse than a needless screen, so negation is deliberately narrow: a negator
("no", "not", "never", ...) suppresses a hit only within a few words before it, in the same
clause ("no pain, but my bum is numb" still hits).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # content.py imports this module to normalise phrases at load time
    from bot.core.content import Library, Near, Negation, Sign

MAX_CHARS = 2000  # the coach refuses longer messages anyway; this keeps reading cheap
BREAK = "|"  # stands for a clause break (. , ; ! ? ...); no word can equal it


class Kind(StrEnum):
    EMERGENCY = "emergency"  # a cauda equina sign: urgent advice now
    CLINICIAN = "clinician"  # see a clinician before exercising: the screen
    LEG = "leg"  # one-sided leg symptoms: the screen, not the urgent advice
    NUMBER = "number"  # a bare 0-10 score
    DONE = "done"
    BAD_DAY = "bad_day"
    HELP = "help"
    HELLO = "hello"
    NONE = "none"


RED_FLAGS = (Kind.EMERGENCY, Kind.CLINICIAN, Kind.LEG)  # in order of precedence


@dataclass(frozen=True, slots=True)
class Intent:
    kind: Kind
    sign: str | None = None  # the red-flag sign id from content, e.g. "saddle-numbness"
    value: int | None = None  # the score, for Kind.NUMBER

    @property
    def red_flag(self) -> bool:
        return self.kind in RED_FLAGS


NOTHING = Intent(Kind.NONE)

# --- normalising ----------------------------------------------------------------------------

_APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛ʼʹ`´′＇", "'"))
_CLAUSE_BREAKS = re.compile(r"[.,;:!?()\[\]{}\"“”«»–—\n]+")
_WORD = re.compile(r"[^\W_]+")  # letters and digits in any script
# Contractions in both spellings ("can't", "cant") become the long form, so content lists one.
_CONTRACTIONS = [
    (re.compile(r"\bcan'?t\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (
        re.compile(
            r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should|must|need)n'?t\b"
        ),
        r"\1 not",
    ),
    (re.compile(r"\b(i|we|they|you)'?ve\b"), r"\1 have"),
    (re.compile(r"\bi'?m\b"), "i am"),
    (re.compile(r"\b(it|that|there|what)s\b"), r"\1 is"),
    (re.compile(r"'s\b"), " is"),  # "bum's numb" reads as "bum is numb"
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),  # only with the apostrophe: "ill" matters (feeling ill)
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\bcan not\b"), "cannot"),
]


def _visible(ch: str) -> str:
    if ch in "\n\r":
        return "\n"
    category = unicodedata.category(ch)
    # "No": superscripts, fractions, circled digits. NFKC would turn "²" into a plain 2.
    return " " if category == "No" or category[0] == "C" else ch


def words(text: str) -> list[str]:
    """Casefolded words, with BREAK between clauses: "I can’t feel my bum." -> i cannot feel my
    bum |"""
    text = "".join(_visible(ch) for ch in text[:MAX_CHARS])
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    text = text.translate(_APOSTROPHES)
    out: list[str] = []
    for clause in _CLAUSE_BREAKS.split(text):
        clause = " ".join(clause.split())
        for pattern, long_form in _CONTRACTIONS:
            clause = pattern.sub(long_form, clause)
        found = _WORD.findall(clause)
        if found:
            out.extend(found)
            out.append(BREAK)
    return out


def phrase_key(text: str) -> str:
    """A phrase as content stores it: its words joined by single spaces ("" if none)."""
    return " ".join(w for w in words(text) if w != BREAK)


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int  # exclusive


def _spans(tokens: list[str], phrases: Iterable[str]) -> Iterator[_Span]:
    """Every place where one of the (normalised) phrases occurs as whole words."""
    for phrase in phrases:
        parts = phrase.split()
        for i in range(len(tokens) - len(parts) + 1):
            if tokens[i] == parts[0] and tokens[i : i + len(parts)] == parts:
                yield _Span(i, i + len(parts))


class _Message:
    def __init__(self, text: str, negation: Negation | None) -> None:
        self.tokens = words(text)
        self.window = 0 if negation is None else negation.window
        self.negators: set[int] = set()
        self.lists: set[int] = set()
        self.breaks = {i for i, token in enumerate(self.tokens) if token == BREAK}
        if negation is not None:
            hedges = self._covered(negation.not_negations)  # "not sure if ..." negates nothing
            self.negators = self._covered(negation.words) - hedges
            self.breaks |= self._covered(negation.breaks)
            self.lists = self._covered(negation.lists)

    def _covered(self, phrases: Iterable[str]) -> set[int]:
        return {i for span in _spans(self.tokens, phrases) for i in range(span.start, span.end)}

    def negated(self, start: int) -> bool:
        """A negator within `window` words before `start`, with no clause break between; list
        words ("or") don't count, so "no numbness or tingling" negates both."""
        left = self.window
        for i in range(start - 1, -1, -1):
            if i in self.breaks or left == 0:
                return False
            if i in self.negators:
                return True
            if i not in self.lists:
                left -= 1
        return False

    def says(self, phrases: Iterable[str]) -> bool:
        return any(not self.negated(span.start) for span in _spans(self.tokens, phrases))

    def says_near(self, rule: Near) -> bool:
        """A word of each list, in either order, at most `within` words apart ("my bum has gone
        numb"). Negated by a negator before the later one ("my bum is not numb"), or before the
        earlier one when no clause break separates them ("no numbness around my bum")."""
        firsts = list(_spans(self.tokens, rule.one_of))
        for a in firsts:
            for b in _spans(self.tokens, rule.and_one_of):
                early, late = (a, b) if a.start <= b.start else (b, a)
                if early.end > late.start or late.start - early.end > rule.within:
                    continue
                one_clause = not any(i in self.breaks for i in range(early.end, late.start))
                if self.negated(late.start) or (one_clause and self.negated(early.start)):
                    continue
                return True
        return False

    def shows(self, sign: Sign) -> bool:
        return self.says(sign.phrases) or any(self.says_near(rule) for rule in sign.near)


_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip


def _score(tokens: list[str], fillers: set[str]) -> int | None:
    """0-10 when the message is a score and nothing else: "3", "3/10", "pain is about 3"."""
    said = [t for t in tokens if t != BREAK]
    if said[-3:] == ["out", "of", "10"]:
        said = said[:-3]
    elif len(said) >= 2 and said[-1] == "10" and said[-2].isdigit():  # "3/10" reads "3 10"
        said = said[:-1]
    left = [t for t in said if t not in fillers]
    if len(left) != 1:
        return None
    word = left[0]
    if word.isascii() and word.isdigit():  # not "٣" or other scripts' digits
        value = int(word) if len(word) <= 2 else None
    else:
        value = _NUMBER_WORDS.get(word)
    return value if value is not None and value <= 10 else None


# --- reading ---------------------------------------------------------------------------------


def read_free_text(text: str, library: Library) -> Intent:
    """What a typed message says, red flags first. Never raises on any text."""
    red_flags, everyday = library.red_flags, library.everyday
    message = _Message(text, None if red_flags is None else red_flags.negation)
    if red_flags is not None:
        for kind in RED_FLAGS:
            for sign in red_flags.signs:
                if sign.level == kind and message.shows(sign):
                    return Intent(kind, sign=sign.id)
    fillers = set() if everyday is None else {w for p in everyday.number_words for w in p.split()}
    value = _score(message.tokens, fillers)
    if value is not None:
        return Intent(Kind.NUMBER, value=value)
    if everyday is not None:
        for kind, phrases in (
            (Kind.DONE, everyday.done),
            (Kind.BAD_DAY, everyday.bad_day),
            (Kind.HELP, everyday.help),
            (Kind.HELLO, everyday.hello),
        ):
            if message.says(phrases):
                return Intent(kind)
    return NOTHING
