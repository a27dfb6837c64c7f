"""wrong /link codes, for the rate limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_tries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_link_tries_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_tries")),
    )
    with op.batch_alter_table("link_tries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_tries_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_link_tries_identity_id"), ["identity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("link_tries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_tries_identity_id"))
        batch_op.drop_index(batch_op.f("ix_link_tries_at"))
    op.drop_table("link_tries")
