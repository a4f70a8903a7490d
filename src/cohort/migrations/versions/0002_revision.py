"""revision: one counter row, bumped by every write transaction

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row yet: the first write transaction inserts it (store.bump_revision), so a freshly
    # migrated database holds no rows at all.
    op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
    )


def downgrade() -> None:
    op.drop_table("revision")
