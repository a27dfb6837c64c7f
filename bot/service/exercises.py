"""Exercises as a person sees them: `/exercise NAME` with its picture, "More" for the full
text, the crossed-out toe touch, and a routine's album (text alone when there are no pictures)."""

from __future__ import annotations

from bot.core import flows
from bot.core.actions import parse_action
from bot.core.content import Avoid, Exercise, Library, Phase
from bot.core.messages import Reply
from bot.core.texts import (
    MORE,
    avoid_text,
    exercise_by_key,
    exercise_caption,
    exercise_text,
    more_button,
)
from bot.pictures.store import PictureStore
from bot.service import pictures
from bot.service.turn import Turn


class Exercises:
    def __init__(self, library: Library, store: PictureStore | None) -> None:
        self.library = library
        self.pictures = store

    async def command(self, turn: Turn, args: str) -> list[Reply]:
        if not args:
            names = ", ".join(e.name for e in self.library.exercises.values())
            return [Reply(f"Which one? /exercise NAME. I know: {names}.")]
        found = self.library.find_exercise(args)
        if found is not None:
            return await self.one(found)
        avoid = self.library.avoid_for(args)
        if avoid is not None:
            return await self.avoid(avoid)
        guesses = ", ".join(e.name for e in self.library.suggest_exercises(args))
        if guesses:
            return [Reply(f"I don't know that exercise. Did you mean: {guesses}?")]
        names = ", ".join(e.name for e in self.library.exercises.values())
        return [Reply(f"I don't know that exercise. I know: {names}. Send /exercise NAME.")]

    async def one(self, exercise: Exercise) -> list[Reply]:
        """The still with a short caption and "More" for the full text, then the animation;
        the full text alone when there are no pictures."""
        drawn = (
            ()
            if self.pictures is None
            else await pictures.or_none(pictures.for_exercise(self.pictures, exercise))
        )
        if not drawn:
            return [Reply(exercise_text(exercise), title=exercise.name)]
        still, animation = drawn
        caption = Reply(
            exercise_caption(exercise),
            title=exercise.name,
            buttons=((more_button(exercise),),),
            pictures=(still,),
        )
        return [caption, Reply("", pictures=(animation,))]

    def more(self, payload: str | None) -> list[Reply] | None:
        """ "More" under an exercise's picture, pressed by anyone: None when the payload is not
        one (a forged "More" naming no exercise is refused here too, before any storage)."""
        action = parse_action(payload) if payload else None
        if action is None or action.flow != flows.EXERCISE:
            return None
        found = exercise_by_key(self.library, action.value)
        if action.step != MORE or action.ref != 0 or found is None:
            return [Reply("That button isn't valid any more.", alert=True, private=True)]
        return [Reply(exercise_text(found), title=found.name)]

    async def avoid(self, entry: Avoid) -> list[Reply]:
        """Why to skip it, under the wrong movement crossed out beside its replacement."""
        drawn = (
            ()
            if self.pictures is None
            else await pictures.or_none(pictures.for_avoid(self.pictures, self.library, entry))
        )
        return [Reply(avoid_text(self.library, entry), pictures=drawn)]

    async def album(self, phase: Phase, *, private: bool) -> list[Reply]:
        """A routine's stills as one album, to go before its text (none without pictures)."""
        if self.pictures is None:
            return []
        drawn = await pictures.or_none(pictures.for_routine(self.pictures, self.library, phase))
        return [Reply("", pictures=drawn, private=private)] if drawn else []
