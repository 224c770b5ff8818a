"""messages.merged_into_id and an index on (to_phone, sent_at): the per-recipient SMS budget (sms-budget)

Revision ID: 4b8d2f6a9e13
Revises: 9a1c3e5b7d20
Create Date: 2026-12-02 05:40:00.000000

The budget counts the SMS that went to one number in the last hour on every send (the index); alerts held
over it go out as one merged SMS, and each held row links to that SMS's row (merged_into_id).
"""
import sqlalchemy as sa
from alembic import op


revision = '4b8d2f6a9e13'
down_revision = '9a1c3e5b7d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_messages_merged_into_id_messages'), 'messages',
                                    ['merged_into_id'], ['id'])
        batch_op.create_index('ix_messages_to_phone_sent_at', ['to_phone', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_to_phone_sent_at')
        batch_op.drop_constraint(batch_op.f('fk_messages_merged_into_id_messages'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
