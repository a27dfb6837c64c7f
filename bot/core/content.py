"""Exercise content: the schema of the YAML files under content/ and the loaded `Library`.

A coach edits YAML, not Python, so every mistake is reported with its file, the dotted path of
the field and a plain reason, and all mistakes in the folder are reported at once (the loader
and checker are in `bot.core.content_loader`). `coach content check [folder]` runs the checker.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.core import free_text
from bot.core.figures import Figure
from bot.core.outcome_content import Lesson, Outcomes

DEFAULT_PROGRAM_ID = "hamstrings-lower-back"
RED_FLAGS_FILE = "phrases/red-flags.yaml"
EVERYDAY_FILE = "phrases/everyday.yaml"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            "use lowercase letters, digits and single hyphens only, like 'glute-bridge'"
        )
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# Cues and headlines are shown inside a routine or a reminder, so they must stay short.
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[str, AfterValidator(_slug)]
ROUTINE_CUES = 2  # cues shown per exercise in a routine
_MINUTES = re.compile(r"\d\s*(?:min|mins|minutes)\b", re.IGNORECASE)


def _compact(text: str) -> str:
    """Lower case, letters and digits only: "90-90", "90 90" and "9090" are the same key."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _phrase(text: str) -> str:
    """Lower case words separated by single spaces, punctuation dropped."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


class _Model(BaseModel):
    # frozen: one loaded library is shared by every conversation; extra="forbid": a misspelt
    # field is reported instead of silently ignored; strict: `sets: yes` is not read as 1.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Dose(_Model):
    sets: int = Field(ge=1, le=10)
    reps: int | None = Field(default=None, ge=1, le=50)
    hold_seconds: int | None = Field(default=None, ge=1, le=300)
    sides: Literal["each", "both"] = "both"
    rest_seconds: int = Field(default=30, ge=0, le=600)

    @model_validator(mode="after")
    def _reps_or_hold(self) -> Self:
        if (self.reps is None) == (self.hold_seconds is None):
            raise ValueError("give exactly one of reps or hold_seconds")
        return self

    def reduced(self) -> Dose:
        """The dose after a bad day: one set fewer and about 70% of the reps or hold time."""
        return self.model_copy(
            update={
                "sets": max(1, self.sets - 1),
                "reps": None if self.reps is None else _seventy_percent(self.reps),
                "hold_seconds": None
                if self.hold_seconds is None
                else _seventy_percent(self.hold_seconds, step=5 if self.hold_seconds >= 10 else 1),
            }
        )

    def describe(self) -> str:
        if self.reps is not None:
            amount = f"{self.reps} rep" if self.reps == 1 else f"{self.reps} reps"
        else:
            amount = f"{self.hold_seconds} s hold"
        side = " each side" if self.sides == "each" else ""
        return f"{self.sets} × {amount}{side}"


def _seventy_percent(value: int, step: int = 1) -> int:
    # Holds are rounded to 5 s (30 s -> 20 s, not 21 s): nobody counts a 21-second hold.
    return max(step, int(value * 0.7 / step + 0.5) * step)


class Fault(_Model):
    fault: Text
    fix: Text


class Exercise(_Model):
    id: Slug
    name: Text
    aliases: list[Text] = []
    position: Literal["floor", "standing", "loaded"]
    purpose: Text
    setup: list[Text] = Field(min_length=1)
    steps: list[Text] = Field(min_length=1)
    cues: list[Short] = Field(min_length=1)
    # The cue(s) that matter most, each one of `cues`: shown first in the routine, which has
    # room for two cues per exercise.
    key_cues: list[Short] = Field(min_length=1, max_length=ROUTINE_CUES)
    faults: list[Fault] = Field(min_length=1)
    dose: Dose
    minutes: float = Field(ge=0.5, le=30)
    equipment: list[Text] = []
    progresses_to: Text | None = None
    regresses_to: Text | None = None
    stop_if: list[Text] = Field(min_length=1)
    figure: Figure  # the side-view pictures (bot.pictures draws them)

    def cues_key_first(self) -> list[str]:
        """All cues, the key ones first (in `key_cues` order), then the rest as written."""
        return [*self.key_cues, *(cue for cue in self.cues if cue not in self.key_cues)]


class Avoid(_Model):
    id: Slug
    name: Text
    triggers: list[Text] = Field(min_length=1)
    why: Text
    instead: list[Text] = Field(min_length=1)
    # The wrong movement drawn crossed out beside the last position of `figure_beside`'s figure.
    figure: Figure | None = None
    figure_beside: Text | None = None

    @model_validator(mode="after")
    def _figure_and_beside(self) -> Self:
        if (self.figure is None) != (self.figure_beside is None):
            raise ValueError("give both figure and figure_beside, or neither")
        return self

    @field_validator("triggers")
    @classmethod
    def _normalise_triggers(cls, triggers: list[str]) -> list[str]:
        # Matched against a message normalised the same way, so "Toe-touch" finds "toe touch".
        phrases = [_phrase(t) for t in triggers]
        if not all(phrases):
            raise ValueError("every trigger needs at least one letter or digit")
        return phrases


class Gates(_Model):
    # Defaults are the progression rule in notes/coaching-rules.md.
    min_sessions: int = Field(default=6, ge=1, le=100)
    min_days: int = Field(default=10, ge=0, le=365)
    window: int = Field(default=3, ge=1, le=20)
    max_pain_to_advance: int = Field(default=3, ge=0, le=10)
    regress_pain_above: int = Field(default=5, ge=0, le=10)
    morning_rise_to_hold: int = Field(default=2, ge=1, le=10)
    comfort_drop_blocks: int = Field(default=2, ge=1, le=10)
    red_flag_pain_jump: int = Field(default=3, ge=1, le=10)
    # Rule 3a: morning pain this far above the phase's starting level (or the onboarding
    # baseline) holds with a lighter dose; `creep_to_screen` re-asks the red-flag screen.
    creep_to_hold: int = Field(default=2, ge=1, le=10)
    creep_to_screen: int = Field(default=3, ge=1, le=10)
    # Rule 3b: leg symptoms on any of the last `window` sessions hold; on `leg_review_sessions`
    # sessions within `leg_review_days` days the coach advises a clinician review.
    leg_review_sessions: int = Field(default=3, ge=1, le=20)
    leg_review_days: int = Field(default=14, ge=1, le=90)

    @model_validator(mode="after")
    def _advance_not_above_regress(self) -> Self:
        if self.max_pain_to_advance > self.regress_pain_above:
            raise ValueError(
                f"max_pain_to_advance ({self.max_pain_to_advance}) must not be above "
                f"regress_pain_above ({self.regress_pain_above})"
            )
        if self.creep_to_hold > self.creep_to_screen:
            raise ValueError(
                f"creep_to_hold ({self.creep_to_hold}) must not be above "
                f"creep_to_screen ({self.creep_to_screen})"
            )
        return self


class SelfTest(_Model):
    """A check a person does and answers before a phase begins (the seed's gate for standing
    work: spine and pelvis stay neutral standing)."""

    id: Slug
    name: Text
    why: Text
    steps: list[Text] = Field(min_length=1)
    question: Text
    passed: Short  # the button label for a pass
    failed: Short  # the button label for a fail
    practice: list[Text] = Field(min_length=1)  # what to work on when it is not passed yet


class RoutineItem(_Model):
    exercise: Text
    dose: Dose | None = None  # None: the exercise's own dose


class Phase(_Model):
    id: Slug
    name: Text
    goal: Text
    headline: Short
    routine: list[RoutineItem] = Field(min_length=1)
    gates: Gates = Gates()
    # Passed before anyone moves up into this phase.
    entry_test: SelfTest | None = None

    @field_validator("headline")
    @classmethod
    def _no_minutes(cls, headline: str) -> str:
        # The minutes are counted from the routine (and the lighter dose), so a fixed number
        # here would go stale the day a dose changes.
        if _MINUTES.search(headline):
            raise ValueError("leave the minutes out: the coach adds them, counted from the routine")
        return headline


class Program(_Model):
    id: Slug
    name: Text
    description: Text
    phases: list[Phase] = Field(min_length=1)

    def clamped(self, index: int) -> int:
        """A stored phase index within this program: past the end (a program edited to fewer
        phases) is the last phase."""
        return min(max(index, 0), len(self.phases) - 1)

    def phase_at(self, index: int) -> Phase:
        return self.phases[self.clamped(index)]


def _said(text: str) -> str:
    key = free_text.phrase_key(text)
    if not key:
        raise ValueError("needs at least one letter or digit")
    return key


# A phrase people type, stored normalised the way free_text reads messages.
Said = Annotated[Text, AfterValidator(_said)]


class Near(_Model):
    """A word of each list close together, in either order: "my bum has gone numb"."""

    one_of: list[Said] = Field(min_length=1)
    and_one_of: list[Said] = Field(min_length=1)
    within: int = Field(default=4, ge=0, le=10)  # words between the two


class Sign(_Model):
    id: Slug
    level: Literal["emergency", "clinician", "leg"]
    name: Text
    phrases: list[Said] = Field(min_length=1)
    near: list[Near] = []


class Negation(_Model):
    words: list[Said] = Field(min_length=1)
    window: int = Field(default=3, ge=1, le=10)
    lists: list[Said] = []  # "or" in "no numbness or tingling" does not use up the window
    breaks: list[Said] = []
    not_negations: list[Said] = []


class RedFlagPhrases(_Model):
    signs: list[Sign] = Field(min_length=1)
    negation: Negation
    ordinary: list[Text] = []  # messages that must not read as any red flag


class EverydayPhrases(_Model):
    done: list[Said] = Field(min_length=1)
    bad_day: list[Said] = Field(min_length=1)
    help: list[Said] = []
    hello: list[Said] = []
    number_words: list[Said] = []  # words around a score: "pain is about 3"


@dataclass(frozen=True)
class Problem:
    file: str
    field: str  # dotted path such as "phases.1.routine.0.exercise"; "" for the whole file
    reason: str

    def __str__(self) -> str:
        if not self.field:
            return f"{self.file}: {self.reason}"
        return f"{self.file}: {self.field}: {self.reason}"


class ContentError(Exception):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Library:
    exercises: dict[str, Exercise]
    avoid: list[Avoid]
    programs: dict[str, Program]
    # None only in libraries built by hand; load_library always fills them.
    red_flags: RedFlagPhrases | None = None
    everyday: EverydayPhrases | None = None
    # In `order`; defaults (no lessons, the coaching-rules thresholds) for libraries built by hand.
    lessons: list[Lesson] = field(default_factory=list)
    outcomes: Outcomes = field(default_factory=Outcomes)
    _names: dict[str, str] = field(init=False, repr=False, compare=False)
    _pieces: list[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, str] = {}  # compact name -> exercise id, for exact look-ups
        pieces: list[tuple[str, str]] = []  # (compact piece, exercise id), for suggestions
        for ex in self.exercises.values():
            for text in (ex.id, ex.name, *ex.aliases):
                names.setdefault(_compact(text), ex.id)
                words = _phrase(text).split()
                # Whole names plus single words and word pairs, so a misspelt "hamstrng" still
                # lands near "90-90 active hamstring stretch".
                spans = [words, *([w] for w in words), *zip(words, words[1:], strict=False)]
                pieces += [("".join(span), ex.id) for span in spans]
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_pieces", pieces)

    def exercise(self, id: str) -> Exercise:
        try:
            return self.exercises[id]
        except KeyError:
            raise KeyError(f"unknown exercise id {id!r}") from None

    def find_exercise(self, query: str) -> Exercise | None:
        ex_id = self._names.get(_compact(query))
        return None if ex_id is None else self.exercises[ex_id]

    def suggest_exercises(self, query: str, n: int = 3) -> list[Exercise]:
        key = _compact(query)
        if not key:
            return []
        best: dict[str, float] = {}
        for piece, ex_id in self._pieces:
            score = difflib.SequenceMatcher(None, key, piece).ratio()
            if len(key) >= 3 and key in piece:
                score = max(score, 0.75)  # "bridg" should find "glute bridge"
            if score >= 0.7:
                best[ex_id] = max(best.get(ex_id, 0.0), score)
        ranked = sorted(best, key=lambda i: (-best[i], i))
        return [self.exercises[i] for i in ranked[:n]]

    def avoid_for(self, text: str) -> Avoid | None:
        # A trigger must start at a word start but may end inside one: "toe touch" matches
        # "toe touches" but not "tiptoe touch".
        padded = f" {_phrase(text)} "
        for entry in self.avoid:
            if any(f" {trigger}" in padded for trigger in entry.triggers):
                return entry
        return None

    def program_of(self, program_id: str) -> Program:
        """A person's program, or the default one when theirs is no longer in the content."""
        return self.programs.get(program_id) or self.default_program()

    def default_program(self) -> Program:
        if DEFAULT_PROGRAM_ID in self.programs:
            return self.programs[DEFAULT_PROGRAM_ID]
        for program in self.programs.values():
            return program
        raise LookupError("the library has no programs")


def load_library(folder: Path) -> Library:
    """The content folder, loaded and checked (`ContentError` lists every problem)."""
    from bot.core.content_loader import load

    library, problems = load(Path(folder))
    if problems:
        raise ContentError(problems)
    return library


def check_content(folder: Path) -> list[Problem]:
    """Every problem in a content folder, with its file, field and reason."""
    from bot.core.content_loader import load

    return load(Path(folder))[1]
