"""Exercise content: the schema of the YAML files under content/, their loader and checker.

A coach edits YAML, not Python, so every mistake is reported with its file, the dotted path of
the field and a plain reason, and all mistakes in the folder are reported at once.

Run `python -m bot.core.content [folder]` to check a content folder (default: ./content).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core import free_text
from bot.core.figures import Figure, figure_problems
from bot.core.outcome_content import LESSONS_DIR, OUTCOMES_FILE, Lesson, Outcomes, lesson_problems

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
    library, problems = _load(Path(folder))
    if problems:
        raise ContentError(problems)
    return library


def check_content(folder: Path) -> list[Problem]:
    return _load(Path(folder))[1]


# --- loading -------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    # yaml.safe_load keeps only the last of two equal keys: a coach who writes `cues:` twice
    # would lose the first list without a word, so a repeated key is an error here.
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key '{key_node.value}' appears twice "
                        f"(lines {seen[key_node.value]} and {line})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def _load(folder: Path) -> tuple[Library, list[Problem]]:
    problems: list[Problem] = []
    if not folder.is_dir():
        problems.append(Problem(str(folder), "", "content folder not found"))
        return Library({}, [], {}), problems
    exercises, broken = _load_kind(folder, "exercises", Exercise, problems, required=True)
    avoid, _ = _load_kind(folder, "avoid", Avoid, problems, required=False)
    programs, _ = _load_kind(folder, "programs", Program, problems, required=True)

    by_id = _unique(exercises, "exercise", problems)
    # An exercise whose own file is broken is already reported; references to it are not
    # reported again as unknown ids, so one mistake gives one problem.
    known = set(by_id) | broken
    _check_exercises(exercises, known, problems)
    _check_order(exercises, by_id, problems)
    avoid_by_id = _unique(avoid, "avoid entry", problems)
    programs_by_id = _unique(programs, "program", problems)
    for name, entry in avoid:
        for i, ex_id in enumerate(entry.instead):
            _check_ref(name, f"instead.{i}", ex_id, known, problems)
        if entry.figure is not None and entry.figure_beside is not None:
            _check_figure(name, "figure", entry.figure, problems)
            _check_ref(name, "figure_beside", entry.figure_beside, known, problems)
    for name, program in programs:
        _check_program(name, program, known, problems)

    red_flags = _load_file(folder, RED_FLAGS_FILE, RedFlagPhrases, problems)
    everyday = _load_file(folder, EVERYDAY_FILE, EverydayPhrases, problems)
    lessons, _ = _load_kind(folder, LESSONS_DIR, Lesson, problems, required=True)
    problems.extend(Problem(*found) for found in lesson_problems(lessons))
    outcomes = _load_file(
        folder, OUTCOMES_FILE, Outcomes, problems, why="the coach needs it for the outcome measures"
    )

    library = Library(
        exercises={ex_id: ex for ex_id, (_, ex) in by_id.items()},
        avoid=[entry for _, entry in avoid_by_id.values()],
        programs={p_id: p for p_id, (_, p) in programs_by_id.items()},
        red_flags=red_flags,
        everyday=everyday,
        lessons=sorted((lesson for _, lesson in lessons), key=lambda lesson: lesson.order),
        outcomes=outcomes or Outcomes(),
    )
    _check_phrases(library, problems)
    return library, problems


def _load_kind(
    folder: Path, sub: str, model: type[M], problems: list[Problem], *, required: bool
) -> tuple[list[tuple[str, M]], set[str]]:
    """The valid files of one kind, and the ids (or file stems) of those that are not."""
    where = folder / sub
    files = sorted(where.iterdir()) if where.is_dir() else []
    files = [f for f in files if f.is_file() and not f.name.startswith(".")]
    for stray in (f for f in files if f.suffix == ".yml"):
        problems.append(Problem(f"{sub}/{stray.name}", "", "rename the file to end in .yaml"))
    paths = [f for f in files if f.suffix == ".yaml"]
    if required and not paths:
        problems.append(Problem(f"{sub}/", "", f"no {sub} found: add at least one .yaml file"))
    loaded: list[tuple[str, M]] = []
    broken: set[str] = set()
    for path in paths:
        name = f"{sub}/{path.name}"
        data = _read_mapping(path, name, problems)
        if data is None:
            broken.add(path.stem)
            continue
        item = _validated(model, data, name, problems)
        if item is None:
            broken.add(data["id"] if isinstance(data.get("id"), str) else path.stem)
        else:
            loaded.append((name, item))
    return loaded, broken


def _validated(
    model: type[M], data: dict[str, Any], name: str, problems: list[Problem]
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(Problem(name, _dotted(e["loc"]), _reason(model, e)) for e in exc.errors())
        return None


def _load_file(
    folder: Path,
    name: str,
    model: type[M],
    problems: list[Problem],
    why: str = "the coach needs it to read messages",
) -> M | None:
    """One required file of a fixed name, such as phrases/red-flags.yaml."""
    path = folder / name
    if not path.is_file():
        problems.append(Problem(name, "", f"file not found: {why}"))
        return None
    data = _read_mapping(path, name, problems)
    return None if data is None else _validated(model, data, name, problems)


def _read_mapping(path: Path, name: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        problems.append(Problem(name, "", f"cannot read the file: {exc}"))
        return None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = "" if mark is None else f" on line {mark.line + 1}, column {mark.column + 1}"
        problems.append(Problem(name, "", f"YAML error{where}: {exc.problem}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(name, "", f"YAML error: {exc}"))
        return None
    if data is None:
        problems.append(Problem(name, "", "the file is empty"))
        return None
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else f"the single value {data!r}"
        problems.append(Problem(name, "", f"expected 'field: value' lines, found {found}"))
        return None
    return data


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _reason(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    if kind == "missing":
        return "missing: this field is required"
    if kind == "extra_forbidden":
        allowed = sorted(_model_at(model, loc[:-1]).model_fields)
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if guess:
            return f"unknown field; did you mean '{guess[0]}'?"
        return "unknown field; allowed here: " + ", ".join(allowed)
    if kind == "too_short" and isinstance(value, list):
        least = error["ctx"]["min_length"]
        if least == 1:
            return "must list at least one item"
        return f"must list at least {least} items (found {len(value)})"
    if kind == "too_long" and isinstance(value, list):
        return f"must list at most {error['ctx']['max_length']} items (found {len(value)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_type" and isinstance(value, dict):
        return "YAML read this as 'field: value' because of the ': ' in it: put it in quotes"
    reason = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(value, str | int | float | bool):
        reason += f" (found {value!r})"
    return reason


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model class a validation location points into, for listing its fields."""
    for part in loc:
        if isinstance(part, str) and part in model.model_fields:
            model = _model_in(model.model_fields[part].annotation) or model
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if found := _model_in(arg):
            return found
    return None


# --- checks across files -------------------------------------------------------------------


class _HasId(typing.Protocol):
    @property
    def id(self) -> str: ...


H = TypeVar("H", bound=_HasId)
_ExerciseIds = dict[str, tuple[str, Exercise]]  # id -> (file, exercise), first file wins


def _unique(
    items: list[tuple[str, H]], what: str, problems: list[Problem]
) -> dict[str, tuple[str, H]]:
    by_id: dict[str, tuple[str, H]] = {}
    for name, item in items:
        if item.id in by_id:
            first = by_id[item.id][0]
            problems.append(
                Problem(name, "id", f"duplicate {what} id '{item.id}' (also in {first})")
            )
        else:
            by_id[item.id] = (name, item)
    return by_id


def _check_ref(name: str, path: str, ex_id: str, known: set[str], problems: list[Problem]) -> None:
    if ex_id in known:
        return
    guess = difflib.get_close_matches(ex_id, sorted(known), n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    problems.append(Problem(name, path, f"unknown exercise id '{ex_id}'{hint}"))


def _check_exercises(
    exercises: list[tuple[str, Exercise]], known: set[str], problems: list[Problem]
) -> None:
    owners: dict[str, str] = {}  # compact name -> exercise id, to keep find_exercise unambiguous
    for name, ex in exercises:
        for path in ("progresses_to", "regresses_to"):
            target = getattr(ex, path)
            if target == ex.id:
                problems.append(Problem(name, path, "points to the exercise itself"))
            elif target is not None:
                _check_ref(name, path, target, known, problems)
        if ex.progresses_to is not None and ex.progresses_to == ex.regresses_to:
            problems.append(Problem(name, "regresses_to", "is the same exercise as progresses_to"))
        _check_key_cues(name, ex, problems)
        _check_figure(name, "figure", ex.figure, problems)
        labels = [("id", ex.id), ("name", ex.name)]
        labels += [(f"aliases.{i}", alias) for i, alias in enumerate(ex.aliases)]
        for path, text in labels:
            key = _compact(text)
            if not key:
                problems.append(Problem(name, path, "needs at least one letter or digit"))
            elif owners.setdefault(key, ex.id) != ex.id:
                other = owners[key]
                problems.append(Problem(name, path, f"'{text}' also names exercise '{other}'"))


def _check_key_cues(name: str, ex: Exercise, problems: list[Problem]) -> None:
    """A key cue marks one of the exercise's cues: it must be written exactly as in `cues`."""
    for i, cue in enumerate(ex.key_cues):
        path = f"key_cues.{i}"
        if cue in ex.key_cues[:i]:
            problems.append(Problem(name, path, f"'{cue}' is already a key cue"))
        elif cue not in ex.cues:
            # A part of a cue: often a comma in a [flow, list] that split one cue in two.
            guess = [c for c in ex.cues if cue in c] or difflib.get_close_matches(cue, ex.cues, 1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            problems.append(
                Problem(name, path, f"'{cue}' is not one of the cues: copy it from `cues`{hint}")
            )


def _check_figure(name: str, path: str, figure: Figure, problems: list[Problem]) -> None:
    problems += [Problem(name, f"{path}.{at}", why) for at, why in figure_problems(figure)]


def _check_order(
    exercises: list[tuple[str, Exercise]],
    by_id: _ExerciseIds,
    problems: list[Problem],
) -> None:
    """Every progresses_to step must lead to a harder exercise and every regresses_to step to an
    easier one; a loop in that order (a -> b -> a) would leave a person going round forever."""
    harder: dict[str, dict[str, tuple[str, str]]] = {}  # easier -> harder -> (file, field)
    for name, ex in exercises:
        if by_id[ex.id][0] != name:
            continue  # a duplicate id, already reported
        if ex.progresses_to in by_id and ex.progresses_to != ex.id:
            harder.setdefault(ex.id, {}).setdefault(ex.progresses_to, (name, "progresses_to"))
        if ex.regresses_to in by_id and ex.regresses_to != ex.id:
            harder.setdefault(ex.regresses_to, {}).setdefault(ex.id, (name, "regresses_to"))

    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for nxt, (name, field_name) in harder.get(node, {}).items():
            if state.get(nxt) == "open":
                cycle = " → ".join([*path[path.index(nxt) :], nxt])
                reason = f"progression cycle {cycle}: each step must lead to a harder exercise"
                problems.append(Problem(name, field_name, reason))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(harder):
        if node not in state:
            visit(node)


def _check_program(name: str, program: Program, known: set[str], problems: list[Problem]) -> None:
    phase_ids: set[str] = set()
    for i, phase in enumerate(program.phases):
        if phase.id in phase_ids:
            problems.append(Problem(name, f"phases.{i}.id", f"duplicate phase id '{phase.id}'"))
        phase_ids.add(phase.id)
        if i == 0 and phase.entry_test is not None:
            problems.append(
                Problem(name, "phases.0.entry_test", "the first phase has no way in to test")
            )
        seen: set[str] = set()
        for j, item in enumerate(phase.routine):
            path = f"phases.{i}.routine.{j}.exercise"
            if item.exercise in seen:
                problems.append(Problem(name, path, f"'{item.exercise}' is already in this phase"))
            seen.add(item.exercise)
            _check_ref(name, path, item.exercise, known, problems)


def _check_phrases(library: Library, problems: list[Problem]) -> None:
    """Read the phrase files' own examples back: every sign phrase must read as its sign's
    level (or a more urgent one), every `ordinary` message as no red flag, and every everyday
    phrase as its intent. A phrase that is negated or shadowed would otherwise fail silently."""
    expected: list[tuple[str, str, str, set[free_text.Kind]]] = []  # file, field, text, kinds
    if library.red_flags is not None:
        seen: set[str] = set()
        for i, sign in enumerate(library.red_flags.signs):
            if sign.id in seen:
                problems.append(
                    Problem(RED_FLAGS_FILE, f"signs.{i}.id", f"duplicate sign id '{sign.id}'")
                )
            seen.add(sign.id)
            level = free_text.RED_FLAGS.index(free_text.Kind(sign.level))
            urgent = set(free_text.RED_FLAGS[: level + 1])
            expected += [
                (RED_FLAGS_FILE, f"signs.{i}.phrases.{j}", p, urgent)
                for j, p in enumerate(sign.phrases)
            ]
        not_red = set(free_text.Kind) - set(free_text.RED_FLAGS)
        expected += [
            (RED_FLAGS_FILE, f"ordinary.{j}", text, not_red)
            for j, text in enumerate(library.red_flags.ordinary)
        ]
    if library.everyday is not None:
        for kind in (
            free_text.Kind.DONE,
            free_text.Kind.BAD_DAY,
            free_text.Kind.HELP,
            free_text.Kind.HELLO,
        ):
            expected += [
                (EVERYDAY_FILE, f"{kind.value}.{j}", p, {kind})
                for j, p in enumerate(getattr(library.everyday, kind.value))
            ]
    for name, path, text, kinds in expected:
        intent = free_text.read_free_text(text, library)
        if intent.kind not in kinds:
            found = intent.kind.value + (f" sign '{intent.sign}'" if intent.sign else "")
            problems.append(Problem(name, path, f"'{text}' reads as {found}"))
