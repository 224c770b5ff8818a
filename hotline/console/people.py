"""Console pages for the registries: technicians and residents (dispatchers), officers (duty officers).

Each kind has a searchable list, an edit page (also for adding one) and an activate/deactivate switch.
Records are never deleted here: orders, cases and the rota keep pointing at them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import translate
from hotline.console.paging import page_number
from hotline.console.people_forms import (
    apply,
    check_officer,
    check_resident,
    check_technician,
    fields_from,
    fields_of,
    today_in,
)
from hotline.console.people_query import NEARBY_LIMIT, NEARBY_RADIUS_KM, STATUSES, nearby_technicians, search
from models import CATEGORY_CODES, OFFICER_ROLES, RESIDENT_FLAGS, Officer, Resident, Technician
from models.phone import mask

log = logging.getLogger(__name__)
bp = Blueprint("people", __name__, url_prefix="/console")


@dataclass(frozen=True)
class Kind:
    """One registry as the console shows it: its model, list endpoint, edit endpoint and form check."""

    name: str          # technicians | residents | officers (also the table id and text prefix)
    model: type
    list_endpoint: str
    edit_endpoint: str
    check: object


KINDS = {
    "technicians": Kind("technicians", Technician, "people.technicians", "people.technician",
                        check_technician),
    # A birth date may not be later than today in the bureau's zone.
    "residents": Kind("residents", Resident, "people.residents", "people.resident",
                      lambda s, data, rec: check_resident(s, data, rec, today_in(db.settings().tz))),
    "officers": Kind("officers", Officer, "people.officers", "people.officer",
                     check_officer),
}


def _list(kind: Kind):
    """The search form and one page of results."""
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "all")
    status = status if status in STATUSES else "all"
    page = search(db.session(), kind.model, query, status, page_number())
    return render_template("console/people/list.html", kind=kind.name, page=page, query=query, status=status,
                           statuses=STATUSES, categories=CATEGORY_CODES, flags=RESIDENT_FLAGS,
                           edit_endpoint=kind.edit_endpoint)


def _edit(kind: Kind, record_id: int | None):
    """Show the edit form; on POST check everything first, then write and commit, or change nothing."""
    session = db.session()
    record = None
    if record_id is not None:
        record = session.get(kind.model, record_id)
        if record is None:
            abort(404)
    errors: list[str] = []
    fields = fields_of(record)
    status = 200
    if request.method == "POST":
        form = kind.check(session, request.form, record)
        errors = form.errors
        if form.ok:
            target = record if record is not None else kind.model()
            if record is None:
                session.add(target)
            try:
                changed = apply(target, form)
                session.commit()
            except IntegrityError:
                # Another edit took the number between our check and this commit.
                session.rollback()
                errors = [translate("people.err_conflict")]
            else:
                _log_change(kind, target, changed, created=record is None)
                flash(translate("people.saved", name=target.name))
                return redirect(url_for(kind.edit_endpoint, record_id=target.id))
        fields, status = fields_from(request.form), 400
    nearby = None
    if isinstance(record, Resident) and record.lat is not None and record.lng is not None:
        nearby = nearby_technicians(session, record.lat, record.lng)
    return render_template("console/people/edit.html", kind=kind.name, record=record, fields=fields,
                           errors=errors, categories=CATEGORY_CODES, flags=RESIDENT_FLAGS, roles=OFFICER_ROLES,
                           nearby=nearby, nearby_km=NEARBY_RADIUS_KM, nearby_limit=NEARBY_LIMIT,
                           list_endpoint=kind.list_endpoint, edit_endpoint=kind.edit_endpoint), status


def _log_change(kind: Kind, record, changed: list[str], created: bool) -> None:
    numbers = [p.phone for p in record.phones] if isinstance(record, Resident) else [record.phone]
    log.info("console %s %s %s %d (%s): %s", current_user().username, "added" if created else "edited",
             kind.name[:-1], record.id, ", ".join(mask(n) for n in numbers), ", ".join(changed) or "no change")


def _set_active(kind: Kind, record_id: int):
    """Switch a record on or off (`active` = 1 or 0), then go back where the button was."""
    record = db.session().get(kind.model, record_id)
    if record is None:
        abort(404)
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400, description=translate("people.err_active"))
    record.active = wanted == "1"
    db.session().commit()
    log.info("console %s %s %s %d", current_user().username, "activated" if record.active else "deactivated",
             kind.name[:-1], record.id)
    flash(translate("people.activated" if record.active else "people.deactivated", name=record.name))
    back = request.form.get("next", "")
    if back.startswith("/console/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for(kind.edit_endpoint, record_id=record.id))


@bp.get("/technicians")
@roles_required("dispatcher")
def technicians():
    """Technicians: search and list."""
    return _list(KINDS["technicians"])


@bp.route("/technicians/new", methods=["GET", "POST"])
@roles_required("dispatcher")
def new_technician():
    """Add a technician."""
    return _edit(KINDS["technicians"], None)


@bp.route("/technicians/<id:record_id>", methods=["GET", "POST"])
@roles_required("dispatcher")
def technician(record_id: int):
    """One technician: details and edit form."""
    return _edit(KINDS["technicians"], record_id)


@bp.post("/technicians/<id:record_id>/active")
@roles_required("dispatcher")
def technician_active(record_id: int):
    """Activate or deactivate a technician."""
    return _set_active(KINDS["technicians"], record_id)


@bp.get("/residents")
@roles_required("dispatcher")
def residents():
    """Residents: search and list."""
    return _list(KINDS["residents"])


@bp.route("/residents/new", methods=["GET", "POST"])
@roles_required("dispatcher")
def new_resident():
    """Add a resident."""
    return _edit(KINDS["residents"], None)


@bp.route("/residents/<id:record_id>", methods=["GET", "POST"])
@roles_required("dispatcher")
def resident(record_id: int):
    """One resident: details, edit form and the technicians nearby."""
    return _edit(KINDS["residents"], record_id)


@bp.post("/residents/<id:record_id>/active")
@roles_required("dispatcher")
def resident_active(record_id: int):
    """Activate or deactivate a resident."""
    return _set_active(KINDS["residents"], record_id)


@bp.get("/officers")
@roles_required("duty_officer")
def officers():
    """Officers: search and list."""
    return _list(KINDS["officers"])


@bp.route("/officers/new", methods=["GET", "POST"])
@roles_required("duty_officer")
def new_officer():
    """Add an officer."""
    return _edit(KINDS["officers"], None)


@bp.route("/officers/<id:record_id>", methods=["GET", "POST"])
@roles_required("duty_officer")
def officer(record_id: int):
    """One officer: details and edit form."""
    return _edit(KINDS["officers"], record_id)


@bp.post("/officers/<id:record_id>/active")
@roles_required("duty_officer")
def officer_active(record_id: int):
    """Activate or deactivate an officer."""
    return _set_active(KINDS["officers"], record_id)
