"""The use cases' side of the outbox: cancelling a person's unsent messages and queueing a line
for a team channel. A thin wrapper: the queue itself is `storage.outbox`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cancel_pending(
        self, person_id: int, now: datetime, *, keep_weekly: bool = False
    ) -> None:
        keep = (outbox.WEEKLY,) if keep_weekly else ()
        await outbox.cancel_pending(self.session, person_id, now, keep_kinds=keep)

    async def tell_channel(
        self,
        *,
        platform: str,
        channel_ref: str,
        kind: str,
        local_date: date,
        text: str,
        person_id: int,
        now: datetime,
    ) -> None:
        row = outbox.outbox_row(
            target=outbox.channel_target(platform, channel_ref),
            kind=kind,
            local_date=local_date,
            platform=platform,
            ref=channel_ref,
            fire_at=now,
            now=now,
            payload=[{"text": text, "private": False}],
            person_id=person_id,
            to_channel=True,
        )
        await outbox.enqueue(self.session, [row])
