"""an index on a phase's counted check-ins: the progression read counts them and finds the
first day from the index alone, not from every row of the person's history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_checkins_counted",
        "checkins",
        ["person_id", "phase_index", "paused", "local_date", "completed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_checkins_counted", table_name="checkins")
