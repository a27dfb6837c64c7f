"""The content schema, loader and checker: the real content folder and a table of broken ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.core.content import (
    ContentError,
    Dose,
    Problem,
    check_content,
    load_library,
)

REAL_CONTENT = Path(__file__).resolve().parents[2] / "content"


# --- the real content --------------------------------------------------------------------


def test_real_content_has_no_problems() -> None:
    assert check_content(REAL_CONTENT) == []


def test_real_content_program_shape() -> None:
    library = load_library(REAL_CONTENT)
    program = library.default_program()
    assert program.id == "hamstrings-lower-back"
    assert [phase.id for phase in program.phases] == ["floor", "standing", "loaded-hinge"]
    for phase in program.phases:
        # Each phase is meant to take 10-15 minutes; minutes are for the exercise's own dose.
        total = 0.0
        for item in phase.routine:
            exercise = library.exercise(item.exercise)
            dose = item.dose or exercise.dose
            total += exercise.minutes * dose.sets / exercise.dose.sets
        assert 10 <= total <= 15, (phase.id, total)


def test_seed_exercises_are_present_and_chained() -> None:
    library = load_library(REAL_CONTENT)
    assert library.exercise("90-90-active-hamstring").progresses_to == "active-straight-leg-raise"
    assert library.exercise("active-straight-leg-raise").progresses_to == "plate-elevated-hamstring"
    assert library.exercise("plate-elevated-hamstring").position == "standing"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("90-90", "90-90-active-hamstring"),
        ("9090", "90-90-active-hamstring"),
        ("90 90", "90-90-active-hamstring"),
        ("90-90-active-hamstring", "90-90-active-hamstring"),
        ("Active Straight Leg Raise", "active-straight-leg-raise"),
        ("ASLR", "active-straight-leg-raise"),
        ("aslr!", "active-straight-leg-raise"),
        ("plate stretch", "plate-elevated-hamstring"),
        ("Hamstring stretch with plate elevation", "plate-elevated-hamstring"),
        ("RDL", "kettlebell-romanian-deadlift"),
    ],
)
def test_find_exercise(query: str, expected: str) -> None:
    found = load_library(REAL_CONTENT).find_exercise(query)
    assert found is not None
    assert found.id == expected


def test_find_exercise_unknown_and_suggestions() -> None:
    library = load_library(REAL_CONTENT)
    assert library.find_exercise("burpee") is None
    assert library.suggest_exercises("burpee") == []
    suggested = [ex.id for ex in library.suggest_exercises("hamstrng strech")]
    assert "90-90-active-hamstring" in suggested
    assert library.suggest_exercises("glute brige", n=1)[0].id == "glute-bridge"


def test_library_exercise_unknown_id() -> None:
    with pytest.raises(KeyError):
        load_library(REAL_CONTENT).exercise("nope")


def test_avoid_for_toe_touch() -> None:
    library = load_library(REAL_CONTENT)
    entry = library.avoid_for("how do I stretch my hamstrings? toe touches?")
    assert entry is not None
    assert entry.id == "standing-toe-touch"
    assert "90-90-active-hamstring" in entry.instead
    assert "active-straight-leg-raise" in entry.instead
    assert library.avoid_for("Should I TOUCH MY TOES every morning") is entry
    assert library.avoid_for("my hamstrings feel tight today") is None
    assert library.avoid_for("tiptoe touch") is None


# --- Dose ----------------------------------------------------------------------------------


def test_dose_reduced() -> None:
    assert Dose(sets=3, reps=8).reduced() == Dose(sets=2, reps=6)
    assert Dose(sets=2, reps=10, sides="each").reduced() == Dose(sets=1, reps=7, sides="each")
    assert Dose(sets=2, hold_seconds=30).reduced() == Dose(sets=1, hold_seconds=20)
    assert Dose(sets=1, hold_seconds=45, rest_seconds=10).reduced() == Dose(
        sets=1, hold_seconds=30, rest_seconds=10
    )
    assert Dose(sets=1, reps=1).reduced() == Dose(sets=1, reps=1)
    assert Dose(sets=1, hold_seconds=3).reduced() == Dose(sets=1, hold_seconds=2)


def test_dose_describe() -> None:
    assert Dose(sets=3, reps=8, sides="each").describe() == "3 × 8 reps each side"
    assert Dose(sets=2, hold_seconds=30).describe() == "2 × 30 s hold"
    assert Dose(sets=1, reps=1).describe() == "1 × 1 rep"


@pytest.mark.parametrize(
    "fields",
    [{"sets": 2}, {"sets": 2, "reps": 5, "hold_seconds": 10}, {"sets": 0, "reps": 5}],
)
def test_dose_invalid(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Dose(**fields)


def test_problem_and_error_text() -> None:
    one = Problem("exercises/a.yaml", "dose.sets", "too big")
    two = Problem("programs/p.yaml", "", "the file is empty")
    assert str(one) == "exercises/a.yaml: dose.sets: too big"
    assert str(two) == "programs/p.yaml: the file is empty"
    assert str(ContentError([one, two])).splitlines() == [str(one), str(two)]


# --- broken content folders ----------------------------------------------------------------

Files = dict[str, Any]  # relative path -> data to dump as YAML, or raw text


def _exercise(ex_id: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ex_id,
        "name": f"Exercise {ex_id}",
        "position": "floor",
        "purpose": "A test exercise.",
        "setup": ["Lie down."],
        "steps": ["Move."],
        "cues": ["Slowly", "Pelvis still, back neutral", "Breathe out"],
        "key_cues": ["Pelvis still, back neutral"],
        "faults": [{"fault": "Rushing.", "fix": "Slow down."}],
        "dose": {"sets": 2, "reps": 8},
        "minutes": 3,
        "stop_if": ["Sharp pain"],
        "figure": _figure(),
    }
    data.update(fields)
    return data


def _figure() -> dict[str, Any]:
    return {
        "label": "Pelvis still",
        "props": ["floor", "mat"],
        "positions": [
            {"name": "legs down", "trunk": -90},
            {"name": "leg up", "trunk": -90, "near_leg": {"hip": 60}, "far_leg": {}},
        ],
    }


def _good_files() -> Files:
    return {
        "exercises/a.yaml": _exercise("a", progresses_to="b"),
        "exercises/b.yaml": _exercise("b", regresses_to="a", aliases=["bee"]),
        "avoid/x.yaml": {
            "id": "x",
            "name": "Bad stretch",
            "triggers": ["bad stretch"],
            "why": "It rounds the back.",
            "instead": ["a"],
            "figure": _figure(),
            "figure_beside": "b",
        },
        "programs/p.yaml": {
            "id": "p",
            "name": "Program",
            "description": "A test program.",
            "phases": [
                {
                    "id": "one",
                    "name": "One",
                    "goal": "Start.",
                    "headline": "One",
                    "routine": [{"exercise": "a"}],
                },
                {
                    "id": "two",
                    "name": "Two",
                    "goal": "Go on.",
                    "headline": "Two",
                    "routine": [{"exercise": "b", "dose": {"sets": 1, "hold_seconds": 20}}],
                    "gates": {"min_sessions": 8},
                },
            ],
        },
        "phrases/red-flags.yaml": {
            "signs": [
                {
                    "id": "saddle",
                    "level": "emergency",
                    "name": "Saddle numbness",
                    "phrases": ["Numb down there!"],
                    "near": [{"one_of": ["bum"], "and_one_of": ["numb"]}],
                },
                {"id": "leg", "level": "leg", "name": "Leg", "phrases": ["sciatica"]},
            ],
            "negation": {"words": ["no", "not"], "breaks": ["but"]},
            "ordinary": ["numbers", "my bum is not numb"],
        },
        "phrases/everyday.yaml": {"done": ["I'm done"], "bad_day": ["bad day"]},
        "lessons/one.yaml": {
            "id": "one",
            "order": 1,
            "title": "Hurt is not harm",
            "sentences": ["Pain is a signal.", "It is not a damage meter.", "Keep moving."],
            "source": "Pain-science basics",
        },
        "outcomes.yaml": {"reassessment": {"every_weeks": 4}},
    }


def _write(folder: Path, files: Files) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
    return folder


def test_good_fixture_loads(tmp_path: Path) -> None:
    library = load_library(_write(tmp_path, _good_files()))
    assert set(library.exercises) == {"a", "b"}
    assert library.default_program().id == "p"  # no "hamstrings-lower-back": the first one
    phase = library.default_program().phases[1]
    assert phase.gates.min_sessions == 8
    assert phase.gates.min_days == 10  # defaults fill the rest
    assert library.find_exercise("BEE") is library.exercise("b")
    assert library.red_flags is not None and library.everyday is not None
    saddle = library.red_flags.signs[0]
    assert saddle.phrases == ["numb down there"]  # stored normalised, as messages are read
    assert library.everyday.done == ["i am done"]


def _edit(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        change(files[name])

    return apply


def _set(name: str, path: str, value: Any) -> Callable[[Files], None]:
    def change(data: Any) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        data[last] = value

    return _edit(name, change)


def _files(**replace: Any) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        for name, data in replace.items():
            name = name.replace("__", "/").replace("_", "-") + ".yaml"  # red_flags: red-flags
            if data is None:
                del files[name]
            else:
                files[name] = data

    return apply


ENTRY_TEST = {
    "id": "standing",
    "name": "Standing test",
    "why": "Check neutral standing first.",
    "steps": ["Hinge five times with a dowel."],
    "question": "Did the dowel stay on?",
    "passed": "Yes",
    "failed": "Not yet",
    "practice": ["Practise dowel hinges."],
}

BROKEN: list[tuple[str, Callable[[Files], None], str, str, str]] = [
    # (case, change, file, field, words in the reason)
    (
        "missing field",
        _edit("exercises/a.yaml", lambda d: d.pop("purpose")),
        "exercises/a.yaml",
        "purpose",
        "required",
    ),
    (
        "bad type",
        _set("exercises/a.yaml", "dose.sets", "three"),
        "exercises/a.yaml",
        "dose.sets",
        "integer",
    ),
    (
        "bool is not a number",
        _set("exercises/a.yaml", "minutes", True),
        "exercises/a.yaml",
        "minutes",
        "number",
    ),
    (
        "out of range number",
        _set("exercises/b.yaml", "dose.reps", 80),
        "exercises/b.yaml",
        "dose.reps",
        "less than or equal to 50",
    ),
    (
        "out of range gate",
        _set("programs/p.yaml", "phases.1.gates.max_pain_to_advance", 11),
        "programs/p.yaml",
        "phases.1.gates.max_pain_to_advance",
        "10",
    ),
    (
        "gates advance above regress",
        _set("programs/p.yaml", "phases.0.gates", {"max_pain_to_advance": 6}),
        "programs/p.yaml",
        "phases.0.gates",
        "regress_pain_above",
    ),
    (
        "creep hold above creep screen",
        _set("programs/p.yaml", "phases.0.gates", {"creep_to_hold": 4, "creep_to_screen": 3}),
        "programs/p.yaml",
        "phases.0.gates",
        "creep_to_screen",
    ),
    (
        "entry test on the first phase",
        _set("programs/p.yaml", "phases.0.entry_test", ENTRY_TEST),
        "programs/p.yaml",
        "phases.0.entry_test",
        "first phase",
    ),
    (
        "entry test without practice",
        _set("programs/p.yaml", "phases.1.entry_test", {**ENTRY_TEST, "practice": []}),
        "programs/p.yaml",
        "phases.1.entry_test.practice",
        "at least one",
    ),
    (
        "entry test with an unknown field",
        _set("programs/p.yaml", "phases.1.entry_test", {**ENTRY_TEST, "pass": "ok"}),
        "programs/p.yaml",
        "phases.1.entry_test.pass",
        "unknown field",
    ),
    (
        "reps and hold together",
        _set("exercises/a.yaml", "dose.hold_seconds", 20),
        "exercises/a.yaml",
        "dose",
        "exactly one of reps or hold_seconds",
    ),
    (
        "empty list",
        _set("exercises/a.yaml", "cues", []),
        "exercises/a.yaml",
        "cues",
        "at least one",
    ),
    (
        "no key cue",
        _edit("exercises/a.yaml", lambda d: d.pop("key_cues")),
        "exercises/a.yaml",
        "key_cues",
        "required",
    ),
    (
        "empty key cues",
        _set("exercises/a.yaml", "key_cues", []),
        "exercises/a.yaml",
        "key_cues",
        "at least one",
    ),
    (
        "more key cues than the routine shows",
        _set(
            "exercises/a.yaml", "key_cues", ["Slowly", "Breathe out", "Pelvis still, back neutral"]
        ),
        "exercises/a.yaml",
        "key_cues",
        "at most 2 items (found 3)",
    ),
    (
        "key cue that is not a cue",
        _set("exercises/b.yaml", "key_cues", ["Pelvis still, back neutral!"]),
        "exercises/b.yaml",
        "key_cues.0",
        "not one of the cues: copy it from `cues`; did you mean 'Pelvis still, back neutral'?",
    ),
    (
        "key cue split by a comma in a flow list",
        _files(
            exercises__a=yaml.safe_dump(_exercise("a", progresses_to="b")).replace(
                "key_cues:\n- Pelvis still, back neutral", "key_cues: [Pelvis still, back neutral]"
            )
        ),
        "exercises/a.yaml",
        "key_cues.0",
        "did you mean 'Pelvis still, back neutral'?",
    ),
    (
        "the same key cue twice",
        _set("exercises/a.yaml", "key_cues", ["Slowly", "Slowly"]),
        "exercises/a.yaml",
        "key_cues.1",
        "already a key cue",
    ),
    (
        "minutes in a headline",
        _set("programs/p.yaml", "phases.1.headline", "Two, ~5 min"),
        "programs/p.yaml",
        "phases.1.headline",
        "leave the minutes out",
    ),
    (
        "bad slug",
        _set("exercises/b.yaml", "id", "Bee Two"),
        "exercises/b.yaml",
        "id",
        "lowercase",
    ),
    (
        "unknown position",
        _set("exercises/a.yaml", "position", "sitting"),
        "exercises/a.yaml",
        "position",
        "floor",
    ),
    (
        "unknown exercise in routine",
        _set("programs/p.yaml", "phases.1.routine.0.exercise", "nope"),
        "programs/p.yaml",
        "phases.1.routine.0.exercise",
        "unknown exercise id 'nope'",
    ),
    (
        "unknown exercise in avoid",
        _set("avoid/x.yaml", "instead", ["a", "bb"]),
        "avoid/x.yaml",
        "instead.1",
        "did you mean 'b'",
    ),
    (
        "unknown progresses_to",
        _set("exercises/b.yaml", "progresses_to", "c"),
        "exercises/b.yaml",
        "progresses_to",
        "unknown exercise id 'c'",
    ),
    (
        "cycle a -> b -> a",
        _set("exercises/b.yaml", "progresses_to", "a"),
        "exercises/b.yaml",
        "progresses_to",
        "a → b → a",
    ),
    (
        "cycle through regresses_to",
        _set("exercises/a.yaml", "regresses_to", "b"),
        "exercises/a.yaml",
        "regresses_to",
        "cycle",
    ),
    (
        "self reference",
        _set("exercises/a.yaml", "regresses_to", "a"),
        "exercises/a.yaml",
        "regresses_to",
        "itself",
    ),
    (
        "yaml syntax error",
        _files(exercises__a="id: a\nname: [unclosed\nposition: floor\n"),
        "exercises/a.yaml",
        "",
        "line",
    ),
    (
        "repeated yaml key",
        _files(exercises__a="id: a\nname: A\nname: B\n"),
        "exercises/a.yaml",
        "",
        "appears twice",
    ),
    (
        "not a mapping",
        _files(programs__p="- just\n- a list\n"),
        "programs/p.yaml",
        "",
        "found a list",
    ),
    (
        "empty file",
        _files(avoid__x=""),
        "avoid/x.yaml",
        "",
        "empty",
    ),
    (
        "unknown field",
        _edit("exercises/a.yaml", lambda d: d.update(setps=d.pop("steps"))),
        "exercises/a.yaml",
        "setps",
        "did you mean 'steps'",
    ),
    (
        "unknown nested field",
        _set("programs/p.yaml", "phases.0.gates", {"min_session": 4}),
        "programs/p.yaml",
        "phases.0.gates.min_session",
        "did you mean 'min_sessions'",
    ),
    (
        "duplicate id",
        _files(exercises__c=_exercise("a")),
        "exercises/c.yaml",
        "id",
        "duplicate exercise id 'a'",
    ),
    (
        "alias clash",
        _files(exercises__c=_exercise("c", aliases=["B-E-E"])),
        "exercises/c.yaml",
        "aliases.0",
        "exercise 'b'",
    ),
    (
        "duplicate phase id",
        _set("programs/p.yaml", "phases.1.id", "one"),
        "programs/p.yaml",
        "phases.1.id",
        "duplicate phase id",
    ),
    (
        "no red-flag phrases",
        _files(phrases__red_flags=None),
        "phrases/red-flags.yaml",
        "",
        "not found",
    ),
    (
        "unknown sign level",
        _set("phrases/red-flags.yaml", "signs.1.level", "urgent"),
        "phrases/red-flags.yaml",
        "signs.1.level",
        "emergency",
    ),
    (
        "phrase without words",
        _set("phrases/red-flags.yaml", "signs.0.phrases.0", "?!"),
        "phrases/red-flags.yaml",
        "signs.0.phrases.0",
        "letter or digit",
    ),
    (
        "no phrases",
        _set("phrases/red-flags.yaml", "signs.1.phrases", []),
        "phrases/red-flags.yaml",
        "signs.1.phrases",
        "at least one",
    ),
    (
        "unknown near field",
        _set("phrases/red-flags.yaml", "signs.0.near.0", {"one_of": ["bum"], "and_one": ["x"]}),
        "phrases/red-flags.yaml",
        "signs.0.near.0.and_one",
        "did you mean 'and_one_of'",
    ),
    (
        "unquoted no is a yes/no value in YAML",
        _files(phrases__red_flags="signs: []\nnegation:\n  words: [no]\n"),
        "phrases/red-flags.yaml",
        "negation.words.0",
        "valid string (found False)",
    ),
    (
        "negation window out of range",
        _set("phrases/red-flags.yaml", "negation.window", 0),
        "phrases/red-flags.yaml",
        "negation.window",
        "greater than or equal to 1",
    ),
    (
        "duplicate sign id",
        _set("phrases/red-flags.yaml", "signs.1.id", "saddle"),
        "phrases/red-flags.yaml",
        "signs.1.id",
        "duplicate sign id 'saddle'",
    ),
    (
        "ordinary message that reads as a red flag",
        _set("phrases/red-flags.yaml", "ordinary.0", "my bum went numb"),
        "phrases/red-flags.yaml",
        "ordinary.0",
        "reads as emergency sign 'saddle'",
    ),
    (
        "everyday phrase shadowed by a red flag",
        _set("phrases/everyday.yaml", "bad_day", ["bad day", "sciatica again"]),
        "phrases/everyday.yaml",
        "bad_day.1",
        "reads as leg sign 'leg'",
    ),
    (
        "everyday phrase shadowed by an earlier intent",
        _set("phrases/everyday.yaml", "bad_day", ["bad day, i am done"]),
        "phrases/everyday.yaml",
        "bad_day.0",
        "reads as done",
    ),
    (
        "no done phrases",
        _edit("phrases/everyday.yaml", lambda d: d.pop("done")),
        "phrases/everyday.yaml",
        "done",
        "required",
    ),
    (
        "no figure",
        _edit("exercises/a.yaml", lambda d: d.pop("figure")),
        "exercises/a.yaml",
        "figure",
        "required",
    ),
    (
        "knee bent past its range",
        _set("exercises/a.yaml", "figure.positions.1.near_leg.knee", 170),
        "exercises/a.yaml",
        "figure.positions.1.near_leg.knee",
        "less than or equal to 160 (found 170)",
    ),
    (
        "trunk angle off the circle",
        _set("exercises/b.yaml", "figure.positions.0.trunk", -200),
        "exercises/b.yaml",
        "figure.positions.0.trunk",
        "greater than or equal to -180",
    ),
    (
        "an angle that is not a number",
        _set("exercises/a.yaml", "figure.positions.0.spine", "rounded"),
        "exercises/a.yaml",
        "figure.positions.0.spine",
        "number",
    ),
    (
        "a pose without a trunk angle",
        _edit("exercises/a.yaml", lambda d: d["figure"]["positions"][1].pop("trunk")),
        "exercises/a.yaml",
        "figure.positions.1.trunk",
        "required",
    ),
    (
        "one position is no movement",
        _edit("exercises/a.yaml", lambda d: d["figure"]["positions"].pop()),
        "exercises/a.yaml",
        "figure.positions",
        "at least 2 items",
    ),
    (
        "misspelt joint",
        _set("exercises/a.yaml", "figure.positions.0.near_leg", {"knees": 10}),
        "exercises/a.yaml",
        "figure.positions.0.near_leg.knees",
        "did you mean 'knee'",
    ),
    (
        "unknown prop",
        _set("exercises/b.yaml", "figure.props", ["floor", "sofa"]),
        "exercises/b.yaml",
        "figure.props.1",
        "'floor'",
    ),
    (
        "prop listed twice",
        _set("exercises/b.yaml", "figure.props", ["mat", "mat"]),
        "exercises/b.yaml",
        "figure.props.1",
        "already listed",
    ),
    (
        "two positions with one name",
        _set("exercises/a.yaml", "figure.positions.1.name", "legs down"),
        "exercises/a.yaml",
        "figure.positions.1.name",
        "names an earlier position",
    ),
    (
        "cue label too long for a picture",
        _set(
            "exercises/a.yaml", "figure.label", "Keep the pelvis still and the lower back neutral"
        ),
        "exercises/a.yaml",
        "figure.label",
        "at most 40 characters",
    ),
    (
        "avoid figure beside an unknown exercise",
        _set("avoid/x.yaml", "figure_beside", "hinge"),
        "avoid/x.yaml",
        "figure_beside",
        "unknown exercise id 'hinge'",
    ),
    (
        "avoid figure without the exercise beside it",
        _edit("avoid/x.yaml", lambda d: d.pop("figure_beside")),
        "avoid/x.yaml",
        "",
        "give both figure and figure_beside",
    ),
    (
        "broken avoid figure",
        _set("avoid/x.yaml", "figure.positions.0.near_arm", {"shoulder": 200}),
        "avoid/x.yaml",
        "figure.positions.0.near_arm.shoulder",
        "less than or equal to 190",
    ),
    (
        "no programs",
        _files(programs__p=None),
        "programs/",
        "",
        "no programs",
    ),
]


@pytest.mark.parametrize(
    ("change", "file", "field", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_content(
    tmp_path: Path, change: Callable[[Files], None], file: str, field: str, words: str
) -> None:
    files = _good_files()
    change(files)
    folder = _write(tmp_path, files)

    problems = check_content(folder)
    matching = [p for p in problems if (p.file, p.field) == (file, field)]
    assert matching, problems
    assert any(words in p.reason for p in matching), matching

    with pytest.raises(ContentError) as raised:
        load_library(folder)
    assert raised.value.problems == problems


def test_yml_file_is_reported(tmp_path: Path) -> None:
    files = _good_files()
    files["exercises/c.yml"] = _exercise("c")
    problems = check_content(_write(tmp_path, files))
    assert [(p.file, p.field) for p in problems] == [("exercises/c.yml", "")]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    files = _good_files()
    del files["exercises/a.yaml"]["purpose"]
    files["exercises/b.yaml"]["dose"]["sets"] = 11
    problems = check_content(_write(tmp_path, files))
    assert [(p.file, p.field) for p in problems] == [
        ("exercises/a.yaml", "purpose"),
        ("exercises/b.yaml", "dose.sets"),
    ]
    with pytest.raises(ContentError) as raised:
        load_library(tmp_path)
    assert str(raised.value).splitlines() == [str(p) for p in problems]


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    problems = check_content(tmp_path)
    assert {(p.file, p.field) for p in problems} == {
        ("exercises/", ""),
        ("programs/", ""),
        ("phrases/red-flags.yaml", ""),
        ("phrases/everyday.yaml", ""),
        ("lessons/", ""),
        ("outcomes.yaml", ""),
    }
    with pytest.raises(ContentError):
        load_library(tmp_path / "nowhere")
