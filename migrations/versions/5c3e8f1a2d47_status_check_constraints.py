"""status check constraints

Revision ID: 5c3e8f1a2d47
Revises: 081ea4c08750
Create Date: 2026-12-02 01:50:00.000000

The database refuses a status outside each record's lifecycle (models/lifecycle.py): orders, offers, cases.
The values are written out here, not imported, so this migration keeps meaning what it meant when a later
one changes the enums.
"""
from alembic import op


revision = '5c3e8f1a2d47'
down_revision = '081ea4c08750'
branch_labels = None
depends_on = None

CHECKS = {
    "orders": "status IN ('pending', 'offered', 'accepted', 'arrived', 'completed', 'escalated', 'cancelled')",
    "offer_attempts": "status IN ('pending', 'accepted', 'declined', 'expired', 'superseded', 'failed')",
    "cases": "status IN ('ringing', 'answered', 'voicemail', 'missed', 'acknowledged', 'closed')",
}


def upgrade():
    for table, condition in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_status"), condition)


def downgrade():
    for table in reversed(list(CHECKS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
