"""the arrival of a message in one round trip on PostgreSQL: lock the person, mark the
account seen, then read

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:00:00.000000

A message first locks its identity and person rows, then reads the check-ins it needs. Two
statements, because one statement that waited for the lock still reads every other table as it
was when it began (a double send would log twice). Inside a PL/pgSQL function each statement
takes its own snapshot, so the read after the lock sees what the message it waited for
committed, and the client pays one round trip for both. The function also marks the account
seen (`Identity.seen`: reachable again, `last_seen` moved once it is `seen_before` old), which
would otherwise be an UPDATE of its own at commit. SQLite has no row locks and no functions:
its arrival stays one plain SELECT, and `Identity.seen` runs in Python
(`storage.repositories.people`).
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# `asked_flows`: the flows whose open question names a check-in by `ref` (the others name the
# person); passed by the caller, which owns that list.
ARRIVAL = """
CREATE FUNCTION coach_arrival(
    of_platform varchar, of_user varchar, asked_flows text[],
    seen_at timestamptz, seen_before timestamptz
)
RETURNS TABLE (who identities, person people, last_session checkins, asked checkins)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM identities i JOIN people p ON p.id = i.person_id
    WHERE i.platform = of_platform AND i.user_ref = of_user
    FOR UPDATE OF i, p;
    UPDATE identities SET unreachable = false,
        last_seen = CASE WHEN last_seen < seen_before THEN seen_at ELSE last_seen END
    WHERE platform = of_platform AND user_ref = of_user
        AND (unreachable OR last_seen < seen_before);
    RETURN QUERY
    SELECT i, p, l, a
    FROM identities i
    JOIN people p ON p.id = i.person_id
    LEFT JOIN checkins l ON l.id = (
        SELECT c.id FROM checkins c
        WHERE c.person_id = p.id AND c.completed_at IS NOT NULL
        ORDER BY c.completed_at DESC, c.id DESC
        LIMIT 1
    )
    LEFT JOIN checkins a ON a.person_id = p.id AND a.id = CASE
        -- PostgreSQL's json operators fail on a document holding a NUL character: skip it
        -- (CASE tries its branches in order); the check-in is then read by id when asked for.
        WHEN strpos(p.pending::text, '\\u0000') > 0 THEN NULL
        WHEN p.pending ->> 'flow' = ANY (asked_flows)
            AND json_typeof(p.pending -> 'ref') = 'number'
            AND p.pending ->> 'ref' ~ '^[0-9]{1,9}$'
        THEN (p.pending ->> 'ref')::integer
    END
    WHERE i.platform = of_platform AND i.user_ref = of_user;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ARRIVAL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION coach_arrival(varchar, varchar, text[], timestamptz, timestamptz)"
        )
