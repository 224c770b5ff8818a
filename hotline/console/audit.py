"""Placeholder page: its owner replaces it (the console is built page by page)."""
from __future__ import annotations

from flask import Blueprint, render_template

from .auth import roles_required

bp = Blueprint("audit", __name__, url_prefix="/console/audit")


@bp.get("/")
@roles_required()
def index():
    """Placeholder page."""
    return render_template("console/placeholder.html")
