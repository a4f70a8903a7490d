"""scores keyed by solution first: the unique key (solution, scorer version, submission), an
index on the submission, and no index on the solution alone

Revision ID: 0014
Revises: 0013

A solution fix writes a new score for every file of its week. With the key ordered by
submission first, each new row went into the middle of that submission's run of keys, one
index page every few files: on the bench's 20,000-file week, rewriting the scores took
0.12 s after the first fix and 0.20 s after the tenth (220,000 score rows), most of it
writing and checkpointing those pages. Keyed by solution first, a fix's rows are appended
in one run of pages, and the time stays flat. The same columns are unique, so every upsert's
ON CONFLICT target is unchanged; the key's prefix serves the lookups by solution that
`ix_scores_solution` served, and `ix_scores_submission` those by submission (the foreign key).

SQLite cannot change a table's UNIQUE constraint: the table is rebuilt (rows copied by id)
and 0010-0013's triggers on it, which go with the old table, are recreated word for word.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_KEY = "UNIQUE (submission_id, solution_sha256, scorer_version)"
NEW_KEY = "UNIQUE (solution_sha256, scorer_version, submission_id)"


def _sqlite_rebuild(old: str, new: str, drop_index: str, create_index: str) -> None:
    bind = op.get_bind()
    table = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'scores'")
    ).scalar_one()
    if old not in table:
        raise RuntimeError(
            "table scores is not as the migrations made it; restore the store from a backup "
            "made by cohort"
        )
    triggers = [
        sql
        for sql in bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'scores' "
                "ORDER BY name"
            )
        ).scalars()
        if sql
    ]
    # A rebuild killed midway leaves its new table behind (SQLite commits a lone CREATE
    # outside the migration's transaction): start again from nothing.
    op.execute("DROP TABLE IF EXISTS scores_rebuilt")
    op.execute(
        table.replace("CREATE TABLE scores", "CREATE TABLE scores_rebuilt", 1)
        .replace('CREATE TABLE "scores"', "CREATE TABLE scores_rebuilt", 1)
        .replace(old, new, 1)
    )
    op.execute(
        "INSERT INTO scores_rebuilt (id, submission_id, solution_sha256, scorer_version, "
        "public_score, private_score, scored_at) SELECT id, submission_id, solution_sha256, "
        "scorer_version, public_score, private_score, scored_at FROM scores ORDER BY id"
    )
    op.execute(f"DROP INDEX IF EXISTS {drop_index}")
    op.execute("DROP TABLE scores")  # its triggers and indexes go with it
    op.execute("ALTER TABLE scores_rebuilt RENAME TO scores")
    op.execute(create_index)
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(
            OLD_KEY,
            NEW_KEY,
            "ix_scores_solution",
            "CREATE INDEX ix_scores_submission ON scores (submission_id)",
        )
        return
    op.drop_constraint("uq_scores_key", "scores", type_="unique")
    op.create_unique_constraint(
        "uq_scores_key", "scores", ["solution_sha256", "scorer_version", "submission_id"]
    )
    op.drop_index("ix_scores_solution", table_name="scores")
    op.create_index("ix_scores_submission", "scores", ["submission_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(
            NEW_KEY,
            OLD_KEY,
            "ix_scores_submission",
            "CREATE INDEX ix_scores_solution ON scores (solution_sha256)",
        )
        return
    op.drop_index("ix_scores_submission", table_name="scores")
    op.create_index("ix_scores_solution", "scores", ["solution_sha256"])
    op.drop_constraint("uq_scores_key", "scores", type_="unique")
    op.create_unique_constraint(
        "uq_scores_key", "scores", ["submission_id", "solution_sha256", "scorer_version"]
    )
