"""One turn of a conversation: who is talking, where, when, and the unit of work it runs in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.content import Library, Phase, Program
from bot.core.messages import Incoming, Reply
from bot.storage_port import Arrival, UnitOfWork
from storage.models import CheckIn, Identity, Person

_UNREAD: Any = object()


@dataclass
class Turn:
    incoming: Incoming
    identity: Identity
    person: Person
    uow: UnitOfWork
    library: Library
    now: datetime
    # The person's last completed check-in, read once per message (several rules ask for it).
    _last_session: Any = field(default=_UNREAD, init=False, repr=False, compare=False)

    # The person's date today, with the time zone it was worked out in (asked for many times
    # in a message; the zone may change in it).
    _today: tuple[str | None, date] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.person.timezone or "UTC")

    @property
    def today(self) -> date:
        timezone = self.person.timezone
        if self._today is None or self._today[0] != timezone:
            self._today = (timezone, self.now.astimezone(self.zone).date())
        return self._today[1]

    @property
    def program(self) -> Program:
        return self.library.program_of(self.person.program_id)

    @property
    def phase(self) -> Phase:
        return self.program.phase_at(self.person.phase_index)

    async def last_session(self) -> CheckIn | None:
        """The last completed check-in (a session, or one logged while paused)."""
        if self._last_session is _UNREAD:
            self._last_session = await self.uow.checkins.last_completed(self.person.id)
        found: CheckIn | None = self._last_session
        return found

    def in_private(self) -> Turn:
        """This turn as if it came in the person's private chat (what it has read goes along)."""
        alone = replace(self, incoming=replace(self.incoming, is_private=True))
        alone._last_session = self._last_session
        return alone

    def arrived(self, arrival: Arrival) -> None:
        """What was read with the person as the message arrived."""
        self._last_session = arrival.last_session

    def completed(self, checkin: CheckIn) -> None:
        """A check-in was completed in this turn: it is now the last one."""
        self._last_session = checkin

    def ask(self, flow: str, step: str, ref: int, **extra: Any) -> None:
        """Remember the open question, so the next answer (typed or pressed) finds it."""
        self.person.pending = {"flow": flow, "step": step, "ref": ref, **extra}

    def clear_pending(self) -> None:
        self.person.pending = None

    def private(self, text: str, **kwargs: Any) -> Reply:
        return Reply(text, private=True, **kwargs)
