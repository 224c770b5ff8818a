"""messages.sent_by: the console user who typed an SMS in the softphone

Revision ID: b7d4e2a91c05
Revises: 3f9c2a7d41b6
Create Date: 2026-12-02 01:00:00.000000

With SOFTPHONE=on and a real Twilio account, an SMS typed in the console's softphone acts as the phone's
owner; the row records which staff member actually sent it.
"""
import sqlalchemy as sa
from alembic import op


revision = 'b7d4e2a91c05'
down_revision = '3f9c2a7d41b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_by', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('sent_by')
