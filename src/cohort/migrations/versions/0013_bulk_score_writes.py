"""bulk score writes: on SQLite, a scoring run's batch of scores bumps its weeks' and members'
counters once per statement instead of 0010-0011's row triggers doing it once a row

Revision ID: 0013
Revises: 0012

A metric-fix rescore rewrites every score of a week: 20,000 upserts, each firing 0010's and
0011's update triggers (two counter upserts apiece, each with a lookup of the submission), was
0.59 s of a 2.0 s run against 0.17 s without them. The triggers on `scores` now skip rows
while the table `bulk_score_writes` holds a row; `rawstore.write_scores_sqlite` puts one in,
writes the batch, bumps the counters of every (week, member) the batch touched in two
set-based statements, and takes the row out, all in one transaction. The row is never
committed, so any other writer (the ORM, a hand edit in the sqlite3 shell) still fires the
triggers as before. PostgreSQL is unchanged: its triggers are deferred and bump once per week
per transaction already.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TRIGGERS = tuple(
    f"{prefix}_scores_{event}"
    for prefix in ("week_rev", "week_rev_m")
    for event in ("insert", "update", "delete")
)
ROW = " FOR EACH ROW BEGIN "
PAUSED = " FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM bulk_score_writes) BEGIN "


def _triggers(old: str) -> dict[str, str]:
    """Each trigger's text as 0010-0011 (or this migration) made it, all checked before
    anything changes: SQLite's DDL here is not undone by a failed upgrade."""
    bind = op.get_bind()
    found = {}
    for name in TRIGGERS:
        sql = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
            {"n": name},
        ).scalar_one_or_none()
        if sql is None or old not in sql:
            raise RuntimeError(
                f"trigger {name} is not as migrations 0010-0013 made it; restore the store "
                "from a backup made by cohort"
            )
        found[name] = sql
    return found


def _rewrite(found: dict[str, str], old: str, new: str) -> None:
    # Recreated with (or without) the WHEN clause, so their bodies are 0010-0011's word for word.
    for name, sql in found.items():
        op.execute(f"DROP TRIGGER {name}")
        op.execute(sql.replace(old, new, 1))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    found = _triggers(ROW) if sqlite else {}
    op.create_table(
        "bulk_score_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_score_writes")),
    )
    if sqlite:
        _rewrite(found, ROW, PAUSED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_triggers(PAUSED), PAUSED, ROW)
    op.drop_table("bulk_score_writes")
