"""outcomes: the person's activities (PSFS) and when they were asked for them, 4-weekly
reassessments with their activity scores, lessons seen

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _person(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people"), ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activities_asked_on", sa.Date(), nullable=True))
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=True),
        sa.Column("baseline_score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _person("activities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(op.f("ix_activities_person_id"), "activities", ["person_id"], unique=False)
    op.create_table(
        "lessons_seen",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(length=64), nullable=False),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _person("lessons_seen"),
        sa.PrimaryKeyConstraint("person_id", "lesson_id", name=op.f("pk_lessons_seen")),
    )
    op.create_table(
        "reassessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usual_pain", sa.Integer(), nullable=False),
        sa.Column("global_rating", sa.Integer(), nullable=False),
        sa.Column("review_suggested", sa.Boolean(), nullable=False),
        _person("reassessments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reassessments")),
        sa.UniqueConstraint("person_id", "week", name="uq_reassessments_person_week"),
    )
    op.create_table(
        "activity_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("reassessment_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_scores_activity_id_activities"),
            ondelete="CASCADE",
        ),
        _person("activity_scores"),
        sa.ForeignKeyConstraint(
            ["reassessment_id"],
            ["reassessments.id"],
            name=op.f("fk_activity_scores_reassessment_id_reassessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_scores")),
        sa.UniqueConstraint("reassessment_id", "activity_id", name="uq_activity_scores_pair"),
    )
    op.create_index(
        op.f("ix_activity_scores_activity_id"), "activity_scores", ["activity_id"], unique=False
    )
    op.create_index(
        op.f("ix_activity_scores_person_id"), "activity_scores", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_activity_scores_person_id"), table_name="activity_scores")
    op.drop_index(op.f("ix_activity_scores_activity_id"), table_name="activity_scores")
    op.drop_table("activity_scores")
    op.drop_table("reassessments")
    op.drop_table("lessons_seen")
    op.drop_index(op.f("ix_activities_person_id"), table_name="activities")
    op.drop_table("activities")
    _drop_column("people", "activities_asked_on")


def _drop_column(table: str, column: str) -> None:
    """ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+). Not a batch copy of the
    table: on SQLite, with foreign keys on, dropping the old copy would delete the rows that
    cascade from it (a person's check-ins, a check-in's decisions)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
