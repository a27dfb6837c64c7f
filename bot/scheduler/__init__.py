"""Daily reminders: one APScheduler interval job ("tick") per process, not one job per person.

Each tick (`runner`):

1. **claims** the people whose `next_fire_utc` has passed, in batches (`claims`, over
   `storage.claims`: PostgreSQL FOR UPDATE SKIP LOCKED, so replicas share the work; SQLite a
   conditional UPDATE), and advances their `next_fire_utc` with the DST-correct maths of
   `bot.core.reminder_plan`;
2. **decides** each reminder (`decide`, plain values): not sent when the person is paused or on
   a safety hold, skipped today, already checked in that day, or the reminder is later than the
   grace period; the next morning's pain question first when it is due (`bot.core.morning`);
3. **enqueues** an outbox row with the unique key (person, kind, local date) in the same
   transaction (`storage.outbox`), records the morning question asked, and commits;
4. claims the **team channels'** daily posts and weekly digests the same way (`team_posts`);
5. **delivers** due outbox rows after commit (`delivery`), paced per platform (`bot.pacing`;
   on PostgreSQL to a budget all replicas share, `storage.send_budget`),
   recording each outcome as it comes: SENT, RETRY (back-off, then failed), UNREACHABLE (the
   identity is marked and gets no more tries), FAILED. Rows past the grace period are dropped.

A weekly summary (`bot.service.weekly`, opt-in) rides on the reminder: a claim on the person's
summary weekday also enqueues one "weekly" row holding only a marker; its chart is drawn when
that row is sent, in a worker thread. `due` is the read-only view behind
`coach reminders due`. Time comes in as `now` (and a monotonic clock and sleep for pacing), so
tests never wait; only a send in flight is timed by the event loop.
"""

from bot.scheduler.due import Preview, preview
from bot.scheduler.result import TickResult
from bot.scheduler.runner import ReminderScheduler, SchedulerSettings

__all__ = ["Preview", "ReminderScheduler", "SchedulerSettings", "TickResult", "preview"]
