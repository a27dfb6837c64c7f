"""daily loop: paused check-ins, pause history, entry tests, creeping pain, leg review, maintenance

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("morning_asked_on", sa.Date(), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase_start_pain", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_advised_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("review_cleared_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("finished_on", sa.Date(), nullable=True))
    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_pauses_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pauses")),
    )
    op.create_index(op.f("ix_pauses_person_id"), "pauses", ["person_id"], unique=False)
    op.create_table(
        "self_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_self_tests_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_tests")),
    )
    op.create_index(op.f("ix_self_tests_person_id"), "self_tests", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_self_tests_person_id"), table_name="self_tests")
    op.drop_table("self_tests")
    op.drop_index(op.f("ix_pauses_person_id"), table_name="pauses")
    op.drop_table("pauses")
    for column in ("finished_on", "review_cleared_on", "review_advised_on", "phase_start_pain"):
        _drop_column("people", column)
    for column in ("morning_asked_on", "paused"):
        _drop_column("checkins", column)


def _drop_column(table: str, column: str) -> None:
    """ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+). Not a batch copy of the
    table: on SQLite, with foreign keys on, dropping the old copy would delete the rows that
    cascade from it (a person's check-ins, a check-in's decisions)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
