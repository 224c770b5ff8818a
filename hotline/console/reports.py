"""Placeholder page: its owner replaces it (the console is built page by page)."""
from __future__ import annotations

from flask import Blueprint, render_template

from .auth import roles_required

bp = Blueprint("reports", __name__, url_prefix="/console/reports")


@bp.get("/")
@roles_required("dispatcher", "duty_officer")
def index():
    """Placeholder page."""
    return render_template("console/placeholder.html")
