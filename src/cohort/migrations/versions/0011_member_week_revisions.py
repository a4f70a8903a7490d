"""member-week revisions: a counter per (week, member) that the database bumps on every change
to that member's rows of the week, so a page re-reads one member's lines, not the week's

Revision ID: 0011
Revises: 0010

0010's week counter says *that* a week changed; this one says *whose* lines did. A new entry,
its score, an override, a final selection or an extension moves the counter of one member in
one week, and the board lines kept per member (`store.revision.by_members`) re-read that
member's rows only. Member 0 stands for the week as a whole: a change to its state (a reveal)
moves it, and then every line of the week is read again, as is the case after any change to
members (0010's row '').

It also gives contribution events a counter of their own, the row '#contributions' of 0010's
table (no week id starts with '#'): the standings keep the recorded events on it instead of
reading all of them on every view.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table -> how a changed row names (week, member) ({row} is NEW or OLD).
OWNER_OF = {
    "submissions": ("{row}.week", "{row}.member_id"),
    "scores": (
        "(SELECT week FROM submissions WHERE id = {row}.submission_id)",
        "(SELECT member_id FROM submissions WHERE id = {row}.submission_id)",
    ),
    "score_overrides": (
        "(SELECT week FROM submissions WHERE id = {row}.submission_id)",
        "(SELECT member_id FROM submissions WHERE id = {row}.submission_id)",
    ),
    "extensions": ("{row}.week", "{row}.member_id"),
    "week_state": ("{row}.week", "0"),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")
CONTRIBUTIONS = "#contributions"


def _sqlite_bump(week: str, member: str) -> str:
    # The WHERE keeps SQLite's parser from reading ON CONFLICT as part of the SELECT; a row whose
    # submission is gone (deleted in the same statement) names nobody and bumps nothing.
    return (
        f"INSERT INTO member_week_revisions (week, member_id, value) SELECT {week}, {member}, 1 "
        f"WHERE {week} IS NOT NULL AND {member} IS NOT NULL "
        "ON CONFLICT (week, member_id) DO UPDATE SET value = member_week_revisions.value + 1;"
    )


def _sqlite_triggers() -> None:
    for table, (week, member) in OWNER_OF.items():
        for event in EVENTS:
            rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}[event]
            body = " ".join(
                _sqlite_bump(week.format(row=row), member.format(row=row)) for row in rows
            )
            op.execute(
                f"CREATE TRIGGER week_rev_m_{table}_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER week_rev_c_contributions_{event.lower()} AFTER {event} ON "
            "contributions FOR EACH ROW BEGIN INSERT INTO week_revisions (week, value) VALUES "
            f"('{CONTRIBUTIONS}', 1) ON CONFLICT (week) DO UPDATE SET value = week_revisions.value + 1; END"
        )


def _postgres_triggers() -> None:
    # Deferred to the commit like 0010's. Each bump first takes the week's own counter (once per
    # week per transaction, 0010's function), so member rows are only ever taken under their
    # week's row: two transactions cannot hold members of one week in opposite orders. Store
    # writers already reach the commit one at a time (they hold the store's revision row).
    op.execute(
        """
        CREATE FUNCTION cohort_bump_member_week(w text, m integer) RETURNS void AS $$
        BEGIN
            IF w IS NULL OR m IS NULL THEN
                RETURN;
            END IF;
            PERFORM cohort_bump_week(w);
            INSERT INTO member_week_revisions (week, member_id, value) VALUES (w, m, 1)
            ON CONFLICT (week, member_id) DO UPDATE SET value = member_week_revisions.value + 1;
        END $$ LANGUAGE plpgsql
        """
    )
    for table, (week, member) in OWNER_OF.items():
        old = f"{week.format(row='OLD')}, {member.format(row='OLD')}"
        new = f"{week.format(row='NEW')}, {member.format(row='NEW')}"
        body = (
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM cohort_bump_member_week({old}); END IF; "
            f"IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM cohort_bump_member_week({new}); END IF;"
        )
        op.execute(
            f"CREATE FUNCTION week_rev_m_{table}() RETURNS trigger AS $$ "
            f"BEGIN {body} RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER week_rev_m_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION week_rev_m_{table}()"
        )
    op.execute(
        "CREATE FUNCTION week_rev_c_contributions() RETURNS trigger AS $$ "
        f"BEGIN PERFORM cohort_bump_week('{CONTRIBUTIONS}'); RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER week_rev_c_contributions AFTER INSERT OR UPDATE OR DELETE "
        "ON contributions DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION week_rev_c_contributions()"
    )


def upgrade() -> None:
    op.create_table(
        "member_week_revisions",
        sa.Column("week", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "member_id", name=op.f("pk_member_week_revisions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in OWNER_OF:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS week_rev_m_{table}_{event.lower()}")
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_c_contributions_{event.lower()}")
    else:
        for table in OWNER_OF:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_m_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS week_rev_m_{table}()")
        op.execute("DROP TRIGGER IF EXISTS week_rev_c_contributions ON contributions")
        op.execute("DROP FUNCTION IF EXISTS week_rev_c_contributions()")
        op.execute("DROP FUNCTION IF EXISTS cohort_bump_member_week(text, integer)")
    op.execute(f"DELETE FROM week_revisions WHERE week = '{CONTRIBUTIONS}'")
    op.drop_table("member_week_revisions")
