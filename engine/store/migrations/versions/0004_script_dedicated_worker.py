"""A script version says whether it runs in dedicated mode (a warm worker per version).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("script_versions", sa.Column("dedicated_worker", sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
