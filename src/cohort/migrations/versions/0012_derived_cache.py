"""derived cache: the values `store.revision` keeps, stored in the database beside the counters
they are keyed on, so a fresh process (every CLI command) finds them too

Revision ID: 0012
Revises: 0011

`by_weeks` and `by_members` keep a week's derived facts (board lines, leaderboards, the tie
check's resampled points) in the process that built them. A CLI command is a fresh process, so
`cohort select` on 1,000 members rebuilt every week's lines and resamples on every run (about
2 s of a 1.5 s target). This table holds the same values, each with the stamp (the week's and
members' trigger-kept counters, and the caller's extra key) it was built under. It lives in the
same database as the counters, so a value can only match the counters it was built from: a
store recreated or restored at another revision brings its own (or no) rows, and dropping 0011
drops this table first. Deleting counter rows by hand forgets every stored value, and on
PostgreSQL a TRUNCATE of a watched table (which fires no row trigger) moves every counter.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


COUNTERS = ("week_revisions", "member_week_revisions")
# The tables 0010-0011's row triggers watch. PostgreSQL's TRUNCATE fires no row trigger, so a
# truncate of any of them moves every counter instead (statement triggers below).
WATCHED = (
    "submissions",
    "scores",
    "score_overrides",
    "extensions",
    "week_state",
    "members",
    "contributions",
)


def upgrade() -> None:
    op.create_table(
        "derived_cache",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_derived_cache")),
    )
    # A counter row deleted (by hand: nothing in cohort deletes one) could count back up to a
    # value a stored value was built under, with other rows behind it: the stored values go.
    if op.get_bind().dialect.name == "sqlite":
        for table in COUNTERS:  # SQLite has no TRUNCATE; DELETE fires row triggers
            op.execute(
                f"CREATE TRIGGER week_rev_forget_{table} AFTER DELETE ON {table} "
                "FOR EACH ROW BEGIN DELETE FROM derived_cache; END"
            )
        return
    op.execute(
        "CREATE FUNCTION cohort_forget_derived() RETURNS trigger AS $$ "
        "BEGIN DELETE FROM derived_cache; RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE FUNCTION cohort_bump_every_counter() RETURNS trigger AS $$ BEGIN "
        "UPDATE week_revisions SET value = value + 1; "
        "UPDATE member_week_revisions SET value = value + 1; "
        "RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    for table in COUNTERS:
        op.execute(
            f"CREATE TRIGGER week_rev_forget_{table} AFTER DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cohort_forget_derived()"
        )
    for table in WATCHED:
        op.execute(
            f"CREATE TRIGGER week_rev_truncate_{table} AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cohort_bump_every_counter()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in COUNTERS:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_forget_{table}")
    else:
        for table in COUNTERS:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_forget_{table} ON {table}")
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS week_rev_truncate_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS cohort_bump_every_counter()")
        op.execute("DROP FUNCTION IF EXISTS cohort_forget_derived()")
    op.drop_table("derived_cache")
