"""technician location index for the matcher's bounding box

Revision ID: 3f9c2a7d41b6
Revises: e1df28a48229
Create Date: 2026-11-29 20:10:00.000000

dispatch.matching searches active technicians inside a lat/lng box; without this index every match
reads the whole technicians table.
"""
from alembic import op


revision = '3f9c2a7d41b6'
down_revision = 'e1df28a48229'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('technicians', schema=None) as batch_op:
        batch_op.create_index('ix_technicians_active_lat_lng', ['active', 'lat', 'lng'], unique=False)


def downgrade():
    with op.batch_alter_table('technicians', schema=None) as batch_op:
        batch_op.drop_index('ix_technicians_active_lat_lng')
