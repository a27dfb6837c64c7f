"""Test helpers: a controllable clock and a person talking to the coach service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.messages import Button, Incoming, Platform, Reply
from bot.service.coach import Coach


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2027, 1, 4, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Chat:
    """One person in one chat. Remembers the last replies so a test can press their buttons."""

    coach: Coach
    user: str = "u1"
    chat: str = ""
    private: bool = True
    platform: Platform = Platform.CONSOLE
    group: str = ""  # the server or group of a group chat
    can_manage: bool = False
    name: str = ""  # display name (the user ref when empty)
    last: list[Reply] = field(default_factory=list)

    async def say(self, text: str) -> list[Reply]:
        return await self._send(text=text)

    async def press(self, label: str) -> list[Reply]:
        return await self._send(action=self.button(label).action)

    async def press_payload(self, payload: str) -> list[Reply]:
        return await self._send(action=payload)

    def button(self, label: str) -> Button:
        for reply in reversed(self.last):
            for button in reply.all_buttons():
                if button.label == label:
                    return button
        raise AssertionError(f"no button {label!r} in {[r.text[:40] for r in self.last]}")

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)

    async def _send(self, text: str | None = None, action: str | None = None) -> list[Reply]:
        incoming = Incoming(
            platform=self.platform,
            user_ref=self.user,
            chat_ref=self.chat or self.user,
            is_private=self.private,
            display_name=self.name or self.user,
            text=text,
            action=action,
            group_ref=self.group,
            can_manage=self.can_manage,
        )
        self.last = await self.coach.handle(incoming)
        return self.last

    async def onboard(
        self,
        pain: int = 3,
        comfort: str = "6",
        zone: str = "Berlin",
        at: str = "07:30",
        activities: Sequence[tuple[str, int | None]] = (),
    ) -> None:
        """/start answered through; `activities`: (a button's label or own words, the 0-10
        rating, None when the coach needs none), then "done" unless three were given."""
        await self.say("/start")
        await self.press("None of these")
        await self.press("None of these")
        await self.press(str(pain))
        await self.say(comfort)
        if "Which activities" in self.text:  # asked once: a second /start goes on to the zone
            await self.activities(activities)
        await self.say(zone)
        await self.say(at)
        assert "all set" in self.text, self.text

    async def activities(self, chosen: Sequence[tuple[str, int | None]]) -> None:
        for label, score in chosen:
            offered = any(b.label == label for r in self.last for b in r.all_buttons())
            await (self.press(label) if offered else self.say(label))
            if score is not None:
                await self.press(str(score))
        if len(chosen) < 3:
            await self.say("done")
