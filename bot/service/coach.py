"""The coach's use cases: one `Incoming` in, the replies out, changes saved in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bot.config import DEFAULT_CHARTS
from bot.core import flows
from bot.core.actions import parse_action
from bot.core.answers import MAX_TEXT, BadAnswer, clean_text, read_quick_checkin, read_score
from bot.core.clock import Clock, utc_now
from bot.core.commands import read_command
from bot.core.content import Library
from bot.core.free_text import Intent, Kind, read_free_text
from bot.core.joining import join_replies  # one message where one will do
from bot.core.messages import Incoming, Platform, Reply
from bot.core.numbers import whole_number
from bot.core.texts import (
    ALREADY_CHECKED_IN,
    BAD_DAY,
    EMERGENCY_STOP,
    HELLO,
    NOT_UNDERSTOOD,
    NUMBER_WITHOUT_QUESTION,
    RED_FLAG_HEARD,
    SIGN_HEARD,
    bad_day_buttons,
    help_text,
    routine_reply,
)
from bot.metrics import command_label, command_timer
from bot.pictures.store import PictureStore
from bot.service import (
    buttons,
    checkin,
    lessons,
    linking,
    morning_question,
    onboarding,
    progress,
    questions,
    reminders,
    report,
    safety,
    settings,
    team,
    weekly,
    your_data,
)
from bot.service.exercises import Exercises
from bot.service.turn import Turn
from bot.storage_port import Storage, StoreConnectionLost

log = logging.getLogger(__name__)

Handler = Callable[[Turn, str], Awaitable[list[Reply]]]

NEEDS_ONBOARDING = {
    "routine",
    "checkin",
    "progress",
    "remind",
    "snooze",
    "pause",
    "summary",
    "report",
}
AFTER_ROUTINE = (
    flows.ROUTINE
)  # the open "question" after a private routine: done, or the pain score
# Ways into the day that ask the next morning's question first.
MORNING_FIRST = {"routine", "checkin", "progress", "start"}


class Coach:
    """Implements `bot.ports.CoachPort`."""

    def __init__(
        self,
        library: Library,
        storage: Storage,
        *,
        clock: Clock = utc_now,
        charts_dir: Path = DEFAULT_CHARTS,
        pictures: PictureStore | None = None,
    ) -> None:
        self.library = library
        self.charts_dir = charts_dir
        self.exercises = Exercises(library, pictures)  # pictures None: text only
        charts_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        charts_dir.chmod(0o700)
        self.storage = storage
        self.clock = clock
        # SQLite has no row locks and takes one writer at a time anyway: handling one message at
        # a time in this process keeps a double press from completing a check-in twice, at no
        # cost of a database round trip. PostgreSQL locks the person's rows instead.
        self._one_at_a_time = asyncio.Lock() if storage.one_at_a_time else None
        self.commands: dict[str, Handler] = {
            "start": self._start,
            "routine": self._routine,
            "checkin": self._checkin,
            "progress": self._progress,
            "report": self._report,
            "learn": lessons.learn,
            "summary": weekly.command,
            "remind": settings.remind,
            "snooze": reminders.snooze_command,
            "pause": settings.pause,
            "resume": settings.resume,
            "exercise": self.exercises.command,
            "privacy": your_data.privacy,
            "export": your_data.export,
            "delete": your_data.delete,
            "help": self._help,
            "link": linking.link,
            "unlink": linking.unlink,
            "team": team.command,
        }

    @property
    def pictures(self) -> PictureStore | None:
        """The exercise pictures (None: text only), kept by `self.exercises`."""
        return self.exercises.pictures

    @pictures.setter
    def pictures(self, store: PictureStore | None) -> None:
        self.exercises.pictures = store

    async def close(self) -> None:
        await self.storage.close()

    # The port ---------------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        with command_timer(command_label(incoming.text, incoming.action)):
            if self._one_at_a_time is None:
                return join_replies(await self._answer(incoming))
            async with self._one_at_a_time:
                return join_replies(await self._answer(incoming))

    async def _answer(self, incoming: Incoming) -> list[Reply]:
        try:
            return await self._handle(incoming)
        except StoreConnectionLost:
            # The database restarted under this message before anything was kept; the store
            # has a new connection now. Once: a second loss is a real outage.
            log.warning("database connection lost mid-message; handling it again")
            return await self._handle(incoming)

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        more = self.exercises.more(incoming.action)
        if more is not None:  # an exercise's full text: nobody's data, nothing stored
            return more
        async with self.storage() as uow:
            now = self.clock()
            people = uow.people
            arrival = await people.arrive(incoming.platform.value, incoming.user_ref, now)
            if arrival is None:
                if incoming.action is not None and not _starts(incoming.action):
                    # An old button (pressed after /delete, or someone else's): store nothing.
                    return [Reply(UNKNOWN_PRESS, alert=True, private=True)]
                identity = await people.add(
                    incoming.platform.value, incoming.user_ref, incoming.display_name, now
                )
            else:
                identity = arrival.identity
            turn = Turn(incoming, identity, identity.person, uow, self.library, now)
            if arrival is not None:
                turn.arrived(arrival)
            return await self._dispatch(turn)

    async def mark_unreachable(self, platform: Platform, user_ref: str) -> None:
        async with self.storage() as uow:
            identity = await uow.people.identity(platform.value, user_ref)
            if identity is not None:
                identity.unreachable = True

    # Dispatch ---------------------------------------------------------------------------------

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        incoming = turn.incoming
        if incoming.action is not None:
            return await buttons.pressed(self, turn, incoming.action)
        raw = incoming.text or ""
        if len(raw) > MAX_TEXT:
            return [turn.private("That message is too long for me. Please keep it short.")]
        text = clean_text(raw)
        typed = read_command(text)
        if typed is not None:
            return await self.command(turn, typed.name, typed.args)
        intent = read_free_text(text, self.library)
        if intent.red_flag:  # at any point of any conversation, before anything else
            return await self._red_flag_words(turn, intent)
        pending = turn.person.pending
        after_routine = False
        if pending and pending.get("flow") == AFTER_ROUTINE:
            after_routine = pending.get("on") == turn.today.isoformat()
            pending = None
        if pending:
            return await questions.answer(self, turn, pending, text, pressed=False)
        avoid = self.library.avoid_for(text)
        if avoid is not None:
            return await self.exercises.avoid(avoid)
        if not text:
            return [turn.private("I understand text and buttons. Send /help to see what I can do.")]
        return await self._free_words(turn, intent, after_routine)

    async def _red_flag_words(self, turn: Turn, intent: Intent) -> list[Reply]:
        """Words that name a red-flag sign: the urgent advice and the hold for an emergency
        sign; the screen for the others (leg symptoms on one side are not an emergency)."""
        person = turn.person
        if intent.kind is Kind.EMERGENCY:
            if person.safety_hold == "emergency":  # already held: the advice again, no new rows
                return [turn.private(EMERGENCY_STOP, buttons=safety.clearance_buttons(turn))]
            checkin.record_stop(turn, None, "emergency", "described in a message")
            return [turn.private(RED_FLAG_HEARD)] + await safety.stop_replies(turn, "emergency")
        interrupted = dict(person.pending) if person.pending else None
        first = "rf" if intent.kind is Kind.LEG else "rfc"
        question = safety.ask_screen(turn, first, resume=interrupted)
        return [turn.private(SIGN_HEARD), question]

    async def _free_words(self, turn: Turn, intent: Intent, after_routine: bool) -> list[Reply]:
        """Words typed outside any question: done, a pain score, a bad day, hello, help."""
        if intent.kind is Kind.DONE or (intent.kind is Kind.NUMBER and after_routine):
            if not turn.person.onboarded:
                return [turn.private("Let's get you set up first.")] + onboarding.start(turn)
            if await checkin.done_today(turn):
                return [turn.private(ALREADY_CHECKED_IN)]
            args = f"pain={intent.value}" if intent.kind is Kind.NUMBER else ""
            return await self.command(turn, "checkin", args)
        if intent.kind is Kind.NUMBER:
            return [turn.private(NUMBER_WITHOUT_QUESTION.format(value=intent.value))]
        if intent.kind is Kind.BAD_DAY:
            return [turn.private(BAD_DAY, buttons=bad_day_buttons(turn.person.id))]
        if intent.kind is Kind.HELP:
            return [Reply(help_text())]
        if intent.kind is Kind.HELLO:
            return [turn.private(HELLO)]
        return [turn.private(NOT_UNDERSTOOD)]

    async def command(self, turn: Turn, name: str, args: str) -> list[Reply]:
        handler = self.commands.get(name)
        if handler is None:
            return [turn.private(f"I don't know that command.\n\n{help_text()}")]
        person = turn.person
        # In a group, /routine shows the plan to everyone; the safety screen comes privately
        # when someone starts a check-in from it.
        group_routine = name == "routine" and not turn.incoming.is_private
        needs_setup = name in NEEDS_ONBOARDING and not group_routine
        if needs_setup and not person.onboarded and not person.safety_hold:
            return [turn.private("Let's get you set up first.")] + onboarding.start(turn)
        if name in MORNING_FIRST and not group_routine:
            asked = await self._morning_first(turn, f"/{name} {args}".strip())
            if asked is not None:
                return [asked]
        return await handler(turn, args)

    async def _morning_first(self, turn: Turn, then: str) -> Reply | None:
        """The next morning's question, as the first thing of the day whatever the way in
        (reminder Start, /routine, Done, /checkin, a quick check-in, a team post, a typed
        number). It interrupts once a day; its buttons still count after that."""
        person = turn.person
        if not person.onboarded or person.safety_hold:
            return None
        if person.morning_asked_on == turn.today:
            return None
        due = await morning_question.morning_due(turn)
        if due is None:
            return None
        person.morning_asked_on = turn.today
        return morning_question.ask_morning(turn, due, then=then)

    async def carry_on(self, turn: Turn, then: str) -> list[Reply]:
        """Carry on with the command a question interrupted. The question was private, so what
        follows is too (a Discord button on a private reply still comes from the channel)."""
        name, _, args = then[1:].partition(" ")
        alone = turn.in_private()
        return [replace(reply, private=True) for reply in await self.command(alone, name, args)]

    # Commands ---------------------------------------------------------------------------------

    async def _start(self, turn: Turn, args: str) -> list[Reply]:
        person = turn.person
        if person.safety_hold:
            return safety.held(turn)
        if args == "checkin" and person.onboarded:
            return await self._checkin(turn, "")
        return onboarding.start(turn)

    async def _routine(self, turn: Turn, args: str) -> list[Reply]:
        if turn.person.safety_hold:
            return safety.held(turn)
        if not turn.incoming.is_private:
            # A group sees the starter routine only: a person's phase and a lighter dose follow
            # from their pain reports, so those stay in private chat.
            starter = routine_reply(self.library, turn.program, 0, lighter=False, private=False)
            note = (
                "Your own phase and dose: press Done to check in, or send /routine to me privately."
            )
            album = await self.exercises.album(turn.program.phases[0], private=False)
            return [*album, replace(starter, text=f"{starter.text}\n\n{note}")]
        reply = routine_reply(
            self.library,
            turn.program,
            turn.person.phase_index,
            lighter=turn.person.lighter_dose,
            private=False,
        )
        team_id = whole_number(args.removeprefix(team.DONE_PREFIX), max_digits=9)
        if args.startswith(team.DONE_PREFIX) and team_id is not None:
            reply = team.from_team(reply, team_id)  # opened from a team post
        pending = turn.person.pending
        if not pending or pending.get("flow") == flows.MORNING:
            # A "done" or a bare number typed next means this routine (see `_free_words`); a
            # morning question gone past still counts by its buttons.
            turn.ask(AFTER_ROUTINE, "done", turn.person.id, on=turn.today.isoformat())
        album = await self.exercises.album(turn.phase, private=reply.private)
        if safety.is_paused(turn):
            return [turn.private("Your program is paused (/resume to end it)."), *album, reply]
        return [*album, reply]

    async def private_routine(self, turn: Turn, team_id: int) -> list[Reply]:
        """/routine as if sent in the person's private chat (onboarding first if needed), its
        "Done" remembering the team post it came from (also after a morning question first)."""
        alone = turn.in_private()
        replies = await self.command(alone, "routine", f"{team.DONE_PREFIX}{team_id}")
        return [replace(reply, private=True) for reply in replies]

    async def _checkin(self, turn: Turn, args: str) -> list[Reply]:
        if turn.person.safety_hold:
            return safety.held(turn)
        if not turn.person.onboarded:
            return [turn.private("Let's get you set up first.")] + onboarding.start(turn)
        if args.startswith("pain="):  # a bare number typed right after the routine
            try:
                pain = read_score(args[5:], "pain during the routine")
            except BadAnswer as bad:
                return [turn.private(str(bad))]
            return await checkin.start(turn, pain)
        if args:
            try:
                values = read_quick_checkin(args)
            except BadAnswer as bad:
                return [turn.private(str(bad))]
            return await checkin.quick(turn, values)
        return await checkin.start(turn)

    async def _progress(self, turn: Turn, args: str) -> list[Reply]:
        text = await progress.summary(turn)
        picture = await progress.chart(turn, self.charts_dir)
        if picture is None:
            # A friendly word instead of an empty picture.
            return [turn.private(text + "\nNo check-ins in the last 8 weeks to draw yet.")]
        return [turn.private(text), picture]

    async def _report(self, turn: Turn, args: str) -> list[Reply]:
        """The one-page report, in private only: in a group it says so and sends it privately."""
        replies = await report.replies(turn, self.charts_dir)
        if turn.incoming.is_private:
            return replies
        return [Reply("I'll send your report privately.")] + replies

    async def _help(self, turn: Turn, args: str) -> list[Reply]:
        return [Reply(help_text())]

    async def bad_day(self, turn: Turn, step: str, value: str) -> list[Reply]:
        """The choices offered on a bad day: a lighter routine today, or a short pause."""
        if step == "light" and value == "1":
            turn.person.lighter_dose = True  # a calm check-in lifts it again
            return await self.command(turn, "routine", "")
        if step == "pause" and value == "3":
            return await settings.pause(turn, "3")
        return [Reply("That button isn't valid any more.", alert=True, private=True)]

    # Safety -----------------------------------------------------------------------------------

    async def cleared(self, turn: Turn) -> list[Reply]:
        person = turn.person
        if not person.safety_hold:
            return [Reply("You're not on hold.", alert=True, private=True)]
        held_for = person.safety_hold
        await safety.cleared(turn)
        reminders.reschedule(turn)
        if not person.onboarded:
            # After an emergency answer the clinician-first questions were never asked.
            step = "rfc" if held_for == "emergency" else "pain"
            return [turn.private("Thanks, glad you've been checked.", edit=True)] + [
                onboarding.ask(turn, step)
            ]
        return [turn.private("Thanks, glad you've been checked. /routine when you're ready.")]


UNKNOWN_PRESS = "I don't know you yet — send /start to begin."


def _starts(payload: str) -> bool:
    """Buttons addressed to anyone, not to one person: a team post's (its "Start my routine",
    a member's name choice) and the "Done" under a routine shown in a group."""
    action = parse_action(payload)
    if action is None:
        return False
    return action.flow == team.FLOW or (action.flow == flows.ROUTINE and action.ref == 0)
