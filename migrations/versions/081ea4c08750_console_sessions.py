"""console sessions

Revision ID: 081ea4c08750
Revises: b7d4e2a91c05
Create Date: 2026-12-02 00:47:15.068220

Console sign-ins move from the signed cookie into this table, so logout, a password change or deactivating
a user can end them, and idle / absolute lifetimes are enforced on the server.
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '081ea4c08750'
down_revision = 'b7d4e2a91c05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_console_sessions_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_sessions_token_hash'))
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_user_id'))

    op.drop_table('console_sessions')
