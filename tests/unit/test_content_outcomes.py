"""The outcome content (lessons/*.yaml, outcomes.yaml): the real files, defaults for libraries
built by hand, and a table of broken files in the style of test_content.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.content import ContentError, Library, check_content, load_library
from bot.core.outcome_content import DEFAULT_RATING_LABELS, GlobalRating, Outcomes
from tests.unit.test_content import REAL_CONTENT, Files, _edit, _files, _good_files, _set, _write

# --- the real content --------------------------------------------------------------------


def test_real_lessons_come_in_order_and_are_short() -> None:
    lessons = load_library(REAL_CONTENT).lessons
    assert len(lessons) >= 6
    orders = [lesson.order for lesson in lessons]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    ids = {lesson.id for lesson in lessons}
    assert {
        "hurt-is-not-harm",
        "staying-active-helps",
        "flare-ups-settle",
        "hinge-not-toe-touch",
        "sleep-and-stress",
        "pacing-and-graded-activity",
    } <= ids
    for lesson in lessons:
        assert 3 <= len(lesson.sentences) <= 5, lesson.id
        assert lesson.text.startswith(lesson.sentences[0])
        assert lesson.source


def test_real_outcomes_are_the_coaching_rules_defaults() -> None:
    outcomes = load_library(REAL_CONTENT).outcomes
    # The shipped file writes out the values of notes/coaching-rules.md, which are also the
    # defaults, so a library built by hand judges change the same way.
    assert outcomes == Outcomes().model_copy(update={"activities": outcomes.activities})
    change = outcomes.meaningful_change
    assert (change.pain_points, change.pain_percent) == (2, 30)
    assert (change.activity_mean, change.activity_item) == (2, 3)
    assert outcomes.reassessment.every_weeks == 4
    assert outcomes.lessons.every_days == 7
    labels = [a.label for a in outcomes.activities.offered]
    assert "Tying my shoes" in labels and "Sitting for an hour" in labels
    assert "Picking up a child" in labels
    lifting = outcomes.activities.lifting()
    assert lifting is not None and lifting.id == "deadlift"
    assert outcomes.activities.most == 3


def test_global_rating_labels_run_from_much_better_to_much_worse() -> None:
    rating = load_library(REAL_CONTENT).outcomes.global_rating
    assert rating.label(3) == "Much better"
    assert rating.label(0) == "About the same"
    assert rating.label(-3) == "Much worse"
    with pytest.raises(ValueError, match="-3 to \\+3"):
        rating.label(4)


def test_library_built_by_hand_gets_the_defaults() -> None:
    bare = Library({}, [], {})
    assert bare.lessons == []
    assert bare.outcomes == Outcomes()
    assert bare.outcomes.global_rating == GlobalRating(labels=DEFAULT_RATING_LABELS)
    assert bare.outcomes.activities.lifting() is not None


def test_thresholds_are_tuned_in_content(tmp_path: Path) -> None:
    files = _good_files()
    files["outcomes.yaml"] = {
        "meaningful_change": {"pain_points": 3, "activity_item": 2},
        "reassessment": {"every_weeks": 6},
        "clinician_review": {"pain_rise": 3, "rating_at_or_below": -2},
    }
    outcomes = load_library(_write(tmp_path, files)).outcomes
    assert outcomes.meaningful_change.pain_points == 3
    assert outcomes.meaningful_change.activity_item == 2
    assert outcomes.meaningful_change.pain_percent == 30  # the rest keep their defaults
    assert outcomes.reassessment.every_weeks == 6
    assert outcomes.clinician_review.rating_at_or_below == -2


def test_lessons_are_sorted_by_order_not_file_name(tmp_path: Path) -> None:
    files = _good_files()
    files["lessons/aa.yaml"] = {**files["lessons/one.yaml"], "id": "aa", "order": 5}
    files["lessons/zz.yaml"] = {**files["lessons/one.yaml"], "id": "zz", "order": 2}
    lessons = load_library(_write(tmp_path, files)).lessons
    assert [lesson.id for lesson in lessons] == ["one", "zz", "aa"]


# --- broken files ------------------------------------------------------------------------

LESSON = "lessons/one.yaml"
OUTCOMES = "outcomes.yaml"


def _second_lesson(**fields: Any) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files["lessons/two.yaml"] = {**files[LESSON], "id": "two", "order": 2, **fields}

    return apply


BROKEN: list[tuple[str, Callable[[Files], None], str, str, str]] = [
    # (case, change, file, field, words in the reason)
    (
        "too few sentences",
        _set(LESSON, "sentences", ["One.", "Two."]),
        LESSON,
        "sentences",
        "at least 3 items (found 2)",
    ),
    (
        "too many sentences",
        _set(LESSON, "sentences", ["A.", "B.", "C.", "D.", "E.", "F."]),
        LESSON,
        "sentences",
        "at most 5 items (found 6)",
    ),
    (
        "sentence without an end",
        _set(LESSON, "sentences.1", "It is not a damage meter"),
        LESSON,
        "sentences.1",
        "end the sentence",
    ),
    (
        "two sentences on one line",
        _set(LESSON, "sentences.0", "Pain is a signal. It is not a meter."),
        LESSON,
        "sentences.0",
        "one sentence per line",
    ),
    (
        "a colon makes YAML read a field",
        _files(
            lessons__one="id: one\norder: 1\ntitle: T\nsource: S\n"
            "sentences:\n  - One.\n  - Note: two.\n  - Three.\n"
        ),
        LESSON,
        "sentences.1",
        "put it in quotes",
    ),
    (
        "a sentence too long for a phone",
        _set(LESSON, "sentences.2", "Keep moving " + "and moving " * 30 + "."),
        LESSON,
        "sentences.2",
        "at most 220 characters",
    ),
    (
        "lesson without a source",
        _edit(LESSON, lambda d: d.pop("source")),
        LESSON,
        "source",
        "required",
    ),
    ("order is not a number", _set(LESSON, "order", "1"), LESSON, "order", "integer"),
    ("order zero", _set(LESSON, "order", 0), LESSON, "order", "greater than or equal to 1"),
    (
        "misspelt lesson field",
        _edit(LESSON, lambda d: d.update(titel=d.pop("title"))),
        LESSON,
        "titel",
        "did you mean 'title'",
    ),
    (
        "title too long for a button",
        _set(LESSON, "title", "A title that goes on and on far beyond a button"),
        LESSON,
        "title",
        "at most 40 characters",
    ),
    (
        "two lessons in one slot",
        _second_lesson(order=1),
        "lessons/two.yaml",
        "order",
        "order 1 is already used by lessons/one.yaml",
    ),
    (
        "duplicate lesson id",
        _second_lesson(id="one"),
        "lessons/two.yaml",
        "id",
        "duplicate lesson id 'one'",
    ),
    ("no lessons", _files(lessons__one=None), "lessons/", "", "no lessons"),
    ("no outcomes file", _files(outcomes=None), OUTCOMES, "", "not found"),
    (
        "six rating labels",
        _set(OUTCOMES, "global_rating", {"labels": DEFAULT_RATING_LABELS[:6]}),
        OUTCOMES,
        "global_rating.labels",
        "at least 7 items (found 6)",
    ),
    (
        "a rating label twice",
        _set(OUTCOMES, "global_rating", {"labels": ["Same", *DEFAULT_RATING_LABELS[1:6], "same"]}),
        OUTCOMES,
        "global_rating.labels",
        "appears twice",
    ),
    (
        "an activity id twice",
        _set(
            OUTCOMES,
            "activities",
            {"offered": [{"id": "shoes", "label": "Shoes"}, {"id": "shoes", "label": "Socks"}]},
        ),
        OUTCOMES,
        "activities.offered",
        "an activity id appears twice: 'shoes'",
    ),
    (
        "two lifting activities",
        _set(
            OUTCOMES,
            "activities",
            {
                "offered": [
                    {"id": "dl", "label": "Deadlift", "lifting": True},
                    {"id": "squat", "label": "Squat", "lifting": True},
                ]
            },
        ),
        OUTCOMES,
        "activities.offered",
        "at most one",
    ),
    (
        "no offered activity",
        _set(OUTCOMES, "activities", {"offered": []}),
        OUTCOMES,
        "activities.offered",
        "at least one",
    ),
    (
        "activity label too long",
        _set(OUTCOMES, "activities", {"offered": [{"id": "x", "label": "x" * 41}]}),
        OUTCOMES,
        "activities.offered.0.label",
        "at most 40 characters",
    ),
    (
        "bad activity id",
        _set(OUTCOMES, "activities", {"offered": [{"id": "Tie Shoes", "label": "Shoes"}]}),
        OUTCOMES,
        "activities.offered.0.id",
        "lowercase",
    ),
    (
        "more than five activities",
        _set(OUTCOMES, "activities", {"most": 6}),
        OUTCOMES,
        "activities.most",
        "less than or equal to 5",
    ),
    (
        "weeks written as text",
        _set(OUTCOMES, "reassessment", {"every_weeks": "4"}),
        OUTCOMES,
        "reassessment.every_weeks",
        "integer",
    ),
    (
        "reassessment every 0 weeks",
        _set(OUTCOMES, "reassessment", {"every_weeks": 0}),
        OUTCOMES,
        "reassessment.every_weeks",
        "greater than or equal to 1",
    ),
    (
        "a 0% change",
        _set(OUTCOMES, "meaningful_change", {"pain_percent": 0}),
        OUTCOMES,
        "meaningful_change.pain_percent",
        "greater than or equal to 1",
    ),
    (
        "misspelt threshold",
        _set(OUTCOMES, "meaningful_change", {"pain_point": 2}),
        OUTCOMES,
        "meaningful_change.pain_point",
        "did you mean 'pain_points'",
    ),
    (
        "review on an unchanged rating",
        _set(OUTCOMES, "clinician_review", {"rating_at_or_below": 0}),
        OUTCOMES,
        "clinician_review.rating_at_or_below",
        "less than or equal to -1",
    ),
]


@pytest.mark.parametrize(
    ("change", "file", "field", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_outcome_content(
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
