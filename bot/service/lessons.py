"""Short lessons: one a week with the reminder, in order, and `/learn` to read them."""

from __future__ import annotations

from bot.core.messages import Reply
from bot.core.outcome_content import Lesson
from bot.core.outcomes import (
    lessons_in_order,
)
from bot.service.turn import Turn


def lesson_text(lesson: Lesson) -> str:
    return f"{lesson.title}. {lesson.text}"


async def learn(turn: Turn, args: str) -> list[Reply]:
    """/learn: the list, marked read or not; /learn N: lesson N in full (now read)."""
    lessons = lessons_in_order(turn.library.lessons)
    if not lessons:
        return [Reply("No lessons yet.")]
    seen = await turn.uow.outcomes.lessons_seen(turn.person.id)
    if not args:
        lines = [
            f"{n}. {lesson.title}" + (" (read)" if lesson.id in seen else "")
            for n, lesson in enumerate(lessons, start=1)
        ]
        return [
            Reply(
                "Short lessons, one a week with your reminder:\n"
                + "\n".join(lines)
                + "\nSend /learn 1 (or another number) to read one now.",
                title="Lessons",
            )
        ]
    number = args.strip()
    if not number.isdigit() or not 1 <= int(number) <= len(lessons):
        return [Reply(f"Send /learn and a number from 1 to {len(lessons)}.")]
    lesson = lessons[int(number) - 1]
    await turn.uow.outcomes.mark_lesson_seen(turn.person.id, lesson.id, turn.today, turn.now)
    return [Reply(lesson.text, title=lesson.title)]
