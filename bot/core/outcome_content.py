"""The schema of the outcome content: short lessons (`lessons/*.yaml`) and the outcome measures
(`outcomes.yaml`: the activities a person rates, the global-rating labels, the reassessment
schedule, the meaningful-change thresholds and the clinician-review trigger).

`bot.core.content` loads and checks these files with the rest of the folder, so a mistake is
reported with its file and field like any other. Every threshold defaults to the value in
notes/coaching-rules.md, so a library built by hand behaves like the shipped content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

OUTCOMES_FILE = "outcomes.yaml"
LESSONS_DIR = "lessons"

# A lesson is read in a reminder on a phone: 3-5 sentences, none of them a wall of text.
LESSON_SENTENCES = (3, 5)
SENTENCE_LENGTH = 220
RATING_POINTS = 7  # much better ... much worse
RATING_BEST = RATING_POINTS // 2  # ratings run from +3 (much better) to -3 (much worse)

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ENDS = (".", "!", "?")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError("use lowercase letters, digits and single hyphens only, like 'socks'")
    return value


def _one_sentence(value: str) -> str:
    if not value.endswith(_ENDS):
        raise ValueError("end the sentence with '.', '!' or '?'")
    # ". " followed by a capital inside the text means two sentences on one line; the count of
    # 3-5 would then be wrong.
    if re.search(r"[.!?] +[A-Z]", value[:-1]):
        raise ValueError("one sentence per line: split it in two")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Slug = Annotated[str, AfterValidator(_slug)]
Sentence = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=SENTENCE_LENGTH),
    AfterValidator(_one_sentence),
]


def _no_repeats(values: Iterable[str], what: str, name: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{name} appears twice: '{value}' (each {what} once)")
        seen.add(value)


class _Model(BaseModel):
    # The same rules as the exercise content: shared and frozen, misspelt fields reported,
    # `every_weeks: "4"` not read as a number.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Lesson(_Model):
    id: Slug
    order: int = Field(ge=1, le=1000)  # lessons come one a week in this order
    title: Label
    sentences: list[Sentence] = Field(
        min_length=LESSON_SENTENCES[0], max_length=LESSON_SENTENCES[1]
    )
    source: Text  # where the facts come from (the words are ours)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


class OfferedActivity(_Model):
    id: Slug
    label: Label
    lifting: bool = False  # the deadlift item, offered first to people who lift


DEADLIFT = OfferedActivity(id="deadlift", label="Deadlifting at my working weight", lifting=True)


class Activities(_Model):
    most: int = Field(default=3, ge=1, le=5)
    own_words_length: int = Field(default=40, ge=10, le=80)
    question: Text = (
        "How able are you to do this now? 0 = unable, 10 = as well as before your back problem."
    )
    offered: list[OfferedActivity] = Field(default=[DEADLIFT], min_length=1)

    @field_validator("offered")
    @classmethod
    def _distinct(cls, offered: list[OfferedActivity]) -> list[OfferedActivity]:
        _no_repeats((a.id for a in offered), "id", "an activity id")
        _no_repeats((a.label.casefold() for a in offered), "label", "an activity label")
        if sum(a.lifting for a in offered) > 1:
            raise ValueError("mark at most one activity with 'lifting: true'")
        return offered

    def lifting(self) -> OfferedActivity | None:
        return next((a for a in self.offered if a.lifting), None)


DEFAULT_RATING_LABELS = [
    "Much better",
    "Better",
    "A little better",
    "About the same",
    "A little worse",
    "Worse",
    "Much worse",
]


class GlobalRating(_Model):
    question: Text = "Compared with when you started, how is your back now?"
    # Best first; the middle label means no change.
    labels: list[Label] = Field(
        default=DEFAULT_RATING_LABELS, min_length=RATING_POINTS, max_length=RATING_POINTS
    )

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[str]) -> list[str]:
        _no_repeats((label.casefold() for label in labels), "label", "a rating label")
        return labels

    def label(self, rating: int) -> str:
        """The words for a rating from +3 (much better) to -3 (much worse)."""
        if not -RATING_BEST <= rating <= RATING_BEST:
            raise ValueError(f"a global rating runs from -{RATING_BEST} to +{RATING_BEST}")
        return self.labels[RATING_BEST - rating]


class Reassessment(_Model):
    every_weeks: int = Field(default=4, ge=1, le=26)


class MeaningfulChange(_Model):
    # Ostelo et al. 2008 (NRS); Stratford et al., Horn et al. 2012 (PSFS).
    pain_points: int = Field(default=2, ge=1, le=10)
    pain_percent: int = Field(default=30, ge=1, le=100)
    activity_mean: float = Field(default=2, gt=0, le=10)
    activity_item: int = Field(default=3, ge=1, le=10)


class ClinicianReview(_Model):
    pain_rise: int = Field(default=2, ge=1, le=10)
    rating_at_or_below: int = Field(default=-1, ge=-RATING_BEST, le=-1)


class LessonPace(_Model):
    every_days: int = Field(default=7, ge=1, le=60)


class Outcomes(_Model):
    activities: Activities = Activities()
    global_rating: GlobalRating = GlobalRating()
    reassessment: Reassessment = Reassessment()
    meaningful_change: MeaningfulChange = MeaningfulChange()
    clinician_review: ClinicianReview = ClinicianReview()
    lessons: LessonPace = LessonPace()


def lesson_problems(lessons: Iterable[tuple[str, Lesson]]) -> list[tuple[str, str, str]]:
    """(file, field, reason) for lessons that clash with an earlier file: the same id or the
    same order number (two lessons in one week's slot would make the order ambiguous)."""
    problems: list[tuple[str, str, str]] = []
    ids: dict[str, str] = {}
    orders: dict[int, str] = {}
    for name, lesson in lessons:
        if lesson.id in ids:
            problems.append(
                (name, "id", f"duplicate lesson id '{lesson.id}' (also in {ids[lesson.id]})")
            )
        else:
            ids[lesson.id] = name
        if lesson.order in orders:
            other = orders[lesson.order]
            problems.append((name, "order", f"order {lesson.order} is already used by {other}"))
        else:
            orders[lesson.order] = name
    return problems
