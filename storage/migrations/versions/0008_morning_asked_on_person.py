"""the day the morning question was last asked moves from the check-in to the person's row
(the message that asks it then writes the person's row only, as it does anyway)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("morning_asked_on", sa.Date(), nullable=True))
    # The latest day asked is the one that matters: it is about the last session.
    op.execute(
        "UPDATE people SET morning_asked_on = (SELECT max(checkins.morning_asked_on) "
        "FROM checkins WHERE checkins.person_id = people.id)"
    )
    _drop_column("checkins", "morning_asked_on")


def downgrade() -> None:
    op.add_column("checkins", sa.Column("morning_asked_on", sa.Date(), nullable=True))
    # Back on the person's last completed check-in, the one it was about.
    op.execute(
        "UPDATE checkins SET morning_asked_on = (SELECT people.morning_asked_on FROM people "
        "WHERE people.id = checkins.person_id) WHERE checkins.id = (SELECT last.id FROM checkins "
        "AS last WHERE last.person_id = checkins.person_id AND last.completed_at IS NOT NULL "
        "ORDER BY last.completed_at DESC, last.id DESC LIMIT 1)"
    )
    _drop_column("people", "morning_asked_on")


def _drop_column(table: str, column: str) -> None:
    """ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+). Not a batch copy of the
    table: on SQLite, with foreign keys on, dropping the old copy would delete the rows that
    cascade from it (a person's check-ins, a check-in's decisions)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
