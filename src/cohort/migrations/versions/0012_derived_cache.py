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
drops this table first.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derived_cache",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_derived_cache")),
    )


def downgrade() -> None:
    op.drop_table("derived_cache")
