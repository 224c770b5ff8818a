"""The rota page for duty officers: a week per line, who is on duty now, and adding, editing, removing shifts.

Times are entered and shown in the bureau's zone (settings.tz) and stored in UTC, as the rota import does.
A week with a hole in a line's cover is shown with a warning, not refused: the supervisors are rung then,
and a half-built rota has to be saveable while it is being filled in.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import translate
from hotline.console.rota_forms import check_shift, fields_from, fields_of
from hotline.console.rota_week import Week, line_week, on_duty_now, week_of
from hotline.params import id_arg, parse_day
from models import LINES, Officer, RotaShift, supervisors, utcnow
from models.phone import mask

log = logging.getLogger(__name__)
bp = Blueprint("rota", __name__, url_prefix="/console/rota")


def _tz():
    return db.settings().tz


def _week(raw: str | None) -> Week:
    """The week asked for as any date in it (`?week=2026-12-02`), else this week."""
    return week_of(parse_day(raw) or datetime.now(_tz()).date(), _tz())


def _page(week: Week, fields: dict, errors: list[str], editing: RotaShift | None, status: int = 200):
    """Render the week view with the shift form filled with `fields`."""
    session, tz = db.session(), _tz()
    lines = [line_week(session, line, week, tz) for line in LINES]
    officers = session.scalars(select(Officer).where(
        (Officer.active.is_(True)) | (Officer.id == (editing.officer_id if editing else -1)))
        .order_by(Officer.name, Officer.id)).all()
    return render_template(
        "console/rota/index.html", week=week, lines=lines, tz=tz, now=on_duty_now(session, utcnow()),
        supervisors=supervisors(session), officers=officers, fields=fields, errors=errors, editing=editing,
        line_names=LINES, today=datetime.now(tz).date(), prev_week=week.monday - timedelta(days=7),
        next_week=week.monday + timedelta(days=7)), status


@bp.get("/")
@roles_required("duty_officer")
def index():
    """The week view; `?edit=<id>` fills the form with that shift."""
    edit_id = id_arg("edit")
    editing = db.session().get(RotaShift, edit_id) if edit_id is not None else None
    return _page(_week(request.args.get("week")), fields_of(editing, _tz()), [], editing)


def _save(shift: RotaShift | None):
    """Check the form and write the shift (new when `shift` is None), or show the page again with why not."""
    session, tz = db.session(), _tz()
    values, errors = check_shift(session, request.form, tz, editing=shift)
    if errors:
        return _page(_week(request.form.get("week")), fields_from(request.form), errors, shift, status=400)
    created = shift is None
    if created:
        shift = RotaShift()
        session.add(shift)
    for name, value in values.items():
        setattr(shift, name, value)
    session.commit()
    officer = session.get(Officer, shift.officer_id)
    log.info("console %s %s rota shift %d: officer %d (%s) line %s tier %d %s..%s", current_user().username,
             "added" if created else "edited", shift.id, officer.id, mask(officer.phone), shift.line, shift.tier,
             shift.starts_at.isoformat(), shift.ends_at.isoformat())
    flash(translate("rota.added" if created else "rota.saved"))
    return redirect(url_for("rota.index", week=shift.starts_at.astimezone(tz).date().isoformat()))


@bp.post("/shifts")
@roles_required("duty_officer")
def add_shift():
    """Add a shift."""
    return _save(None)


@bp.post("/shifts/<id:shift_id>")
@roles_required("duty_officer")
def edit_shift(shift_id: int):
    """Change a shift."""
    shift = db.session().get(RotaShift, shift_id)
    if shift is None:
        abort(404)
    return _save(shift)


@bp.post("/shifts/<id:shift_id>/delete")
@roles_required("duty_officer")
def remove_shift(shift_id: int):
    """Remove a shift."""
    session = db.session()
    shift = session.get(RotaShift, shift_id)
    if shift is None:
        abort(404)
    week = shift.starts_at.astimezone(_tz()).date().isoformat()
    log.info("console %s removed rota shift %d: officer %d line %s tier %d %s..%s", current_user().username,
             shift.id, shift.officer_id, shift.line, shift.tier, shift.starts_at.isoformat(),
             shift.ends_at.isoformat())
    session.delete(shift)
    session.commit()
    flash(translate("rota.removed"))
    return redirect(url_for("rota.index", week=request.form.get("week") or week))
