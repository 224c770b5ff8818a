"""messages.template, messages.template_params: the kind and parameters of an SMS text (aliyun-sms)

Revision ID: 9a1c3e5b7d20
Revises: 2833f5f95eca
Create Date: 2026-12-02 05:00:00.000000

Mainland SMS providers (Alibaba Cloud) send only approved templates with named parameters, not free text:
the outbox row keeps which text it is and with which parameters, beside the rendered body.
"""
import sqlalchemy as sa
from alembic import op


revision = '9a1c3e5b7d20'
down_revision = '2833f5f95eca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('template_params', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('template_params')
        batch_op.drop_column('template')
