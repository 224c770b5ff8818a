"""Placeholder pages: their owner replaces them (the console is built page by page)."""
from __future__ import annotations

from flask import Blueprint, render_template

from .auth import roles_required

bp = Blueprint("people", __name__, url_prefix="/console")


@bp.get("/technicians")
@roles_required("dispatcher")
def technicians():
    """Placeholder page."""
    return render_template("console/placeholder.html")


@bp.get("/residents")
@roles_required("dispatcher")
def residents():
    """Placeholder page."""
    return render_template("console/placeholder.html")


@bp.get("/officers")
@roles_required("duty_officer")
def officers():
    """Placeholder page."""
    return render_template("console/placeholder.html")
