"""Loading and checking the content folder: every YAML file read with its duplicate keys
refused, validated against the schema in `bot.core.content`, and cross-checked (references,
key cues, figures, phrases), each problem reported with its file, field and reason."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.core import free_text
from bot.core.content import (
    EVERYDAY_FILE,
    RED_FLAGS_FILE,
    Avoid,
    EverydayPhrases,
    Exercise,
    Library,
    Problem,
    Program,
    RedFlagPhrases,
    _compact,
)
from bot.core.figures import Figure, figure_problems
from bot.core.outcome_content import LESSONS_DIR, OUTCOMES_FILE, Lesson, Outcomes, lesson_problems

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


def load(folder: Path) -> tuple[Library, list[Problem]]:
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
