"""A script version keeps the lock of its dependencies (exact versions it runs with).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("script_versions", sa.Column("lock", sa.Text(), nullable=True))
