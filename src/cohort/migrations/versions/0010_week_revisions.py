"""week revisions: a counter per week that the database itself bumps on every change to
the rows a week's boards are built from

Revision ID: 0010
Revises: 0004 (the triggers watch its extensions table)

Triggers, not application code, bump it: a write through any code path (ORM, Core, a bulk
load, a restore, psql) moves the week's counter, so a cache of a week's board lines keyed on
it cannot miss a change. (The app's page stamp still keys on the store's revision, which only
`Store.transaction` bumps: a hand edit in psql reaches the boards, not pages cached before it.) The row '' is bumped by any change to members (names, handles,
active), which every week's board shows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None

# table -> how a changed row names its week ({row} is NEW or OLD); None: every week ('').
WEEK_OF = {
    "submissions": "{row}.week",
    "scores": "(SELECT week FROM submissions WHERE id = {row}.submission_id)",
    "score_overrides": "(SELECT week FROM submissions WHERE id = {row}.submission_id)",
    "extensions": "{row}.week",
    "week_state": "{row}.week",
    "members": None,
}
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _sqlite_bump(week: str) -> str:
    # The WHERE keeps SQLite's parser from reading ON CONFLICT as part of the SELECT.
    return (
        f"INSERT INTO week_revisions (week, value) SELECT {week}, 1 WHERE {week} IS NOT NULL "
        "ON CONFLICT (week) DO UPDATE SET value = week_revisions.value + 1;"
    )


def _sqlite_triggers() -> None:
    for table, week in WEEK_OF.items():
        for event in EVENTS:
            rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}[event]
            if week is None:
                body = _sqlite_bump("''")
            else:
                body = " ".join(_sqlite_bump(week.format(row=row)) for row in rows)
            op.execute(
                f"CREATE TRIGGER week_rev_{table}_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )


def _postgres_triggers() -> None:
    # Deferred to the commit, and once per week per transaction: a row trigger that bumped at
    # each write held the week's counter row from the first write on, which deadlocked a final
    # selection against a scoring run (their other locks come in the opposite order), and each
    # of 10,000 bumps of one row in a transaction looked past all the earlier versions of it.
    # At commit every writer already holds the store's revision row (bumped at the end of
    # Store.transaction), so no two transactions take week counters at the same time.
    op.execute(
        """
        CREATE FUNCTION cohort_bump_week(w text) RETURNS void AS $$
        DECLARE
            flag text;
        BEGIN
            IF w IS NULL THEN
                RETURN;
            END IF;
            flag := 'cohort.bumped_' || md5(w);
            IF current_setting(flag, true) = 'y' THEN
                RETURN;
            END IF;
            PERFORM set_config(flag, 'y', true);
            INSERT INTO week_revisions (week, value) VALUES (w, 1)
            ON CONFLICT (week) DO UPDATE SET value = week_revisions.value + 1;
        END $$ LANGUAGE plpgsql
        """
    )
    for table, week in WEEK_OF.items():
        if week is None:
            body = "PERFORM cohort_bump_week('');"
        else:
            old, new = week.format(row="OLD"), week.format(row="NEW")
            body = (
                f"IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM cohort_bump_week({old}); END IF; "
                f"IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM cohort_bump_week({new}); END IF;"
            )
        op.execute(
            f"CREATE FUNCTION week_rev_{table}() RETURNS trigger AS $$ "
            f"BEGIN {body} RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER week_rev_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION week_rev_{table}()"
        )


def upgrade() -> None:
    op.create_table(
        "week_revisions",
        sa.Column("week", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_week_revisions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WEEK_OF:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS week_rev_{table}_{event.lower()}")
    else:
        for table in WEEK_OF:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS week_rev_{table}()")
        op.execute("DROP FUNCTION IF EXISTS cohort_bump_week(text)")
    op.drop_table("week_revisions")
