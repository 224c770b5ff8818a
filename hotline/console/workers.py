"""The case-worker registry in the console (儿童主任 / 儿童督导员 / partners): search, add, edit, activate.

Duty officers and admins, as the officers' page: these people receive casework tasks about children. The form
checks a row as the importer does (hotline/registry/worker_rows.py): number to E.164, a role of the registry, a
village for a 儿童主任 and a township for a 儿童督导员. Workers are never deleted: tasks keep pointing at them.
"""
from __future__ import annotations

import logging
import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from dispatch import taxonomy
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import current_language, translate
from hotline.console.paging import page_number
from hotline.console.toggles import set_active
from hotline.registry.csv_rows import CellError, parse_phone
from hotline.registry.worker_rows import PLACE_REQUIRED
from models import WORKER_ROLES, CaseWorker
from models.phone import mask

log = logging.getLogger(__name__)
bp = Blueprint("workers", __name__, url_prefix="/console/workers")
PER_PAGE = 25
STATUSES = ("all", "active", "inactive")
FIELDS = ("name", "phone", "role", "township", "village")


@bp.context_processor
def _helpers():
    lang = current_language()
    return {"role_label": lambda code: taxonomy.label("worker_roles", code, lang), "roles": WORKER_ROLES}


def _search(query: str, status: str, role: str, page: int):
    stmt = select(CaseWorker)
    if query:
        clauses = [CaseWorker.name.icontains(query, autoescape=True),
                   CaseWorker.township.icontains(query, autoescape=True),
                   CaseWorker.village.icontains(query, autoescape=True)]
        digits = "".join(ch for ch in query if ch.isascii() and ch.isdigit())
        if len(digits) >= 3:
            clauses.append(CaseWorker.phone.contains(digits.lstrip("0") or digits, autoescape=True))
        stmt = stmt.where(or_(*clauses))
    if status in ("active", "inactive"):
        stmt = stmt.where(CaseWorker.active.is_(status == "active"))
    if role in WORKER_ROLES:
        stmt = stmt.where(CaseWorker.role == role)
    total = db.session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    number = min(page, pages)
    rows = db.session().scalars(stmt.order_by(CaseWorker.active.desc(), CaseWorker.township, CaseWorker.village,
                                              CaseWorker.id).offset((number - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return {"rows": list(rows), "number": number, "pages": pages, "total": total}


@bp.get("/")
@roles_required("duty_officer")
def index():
    """Case workers: search by name, place or phone digits; filter by role and status."""
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "all")
    status = status if status in STATUSES else "all"
    role = request.args.get("role", "")
    role = role if role in WORKER_ROLES else ""
    page = _search(query, status, role, page_number())
    return render_template("console/workers/list.html", page=page, query=query, status=status, role=role,
                           statuses=STATUSES)


def check(data, record: CaseWorker | None) -> tuple[dict, list[str]]:
    """Cleaned values of a worker form and the messages refusing it (none: OK); nothing is written here."""
    values: dict = {}
    errors: list[str] = []

    def fail(key: str, field: str, **params) -> None:
        errors.append(translate(f"workers.err_{key}", field=translate(f"workers.field_{field}"), **params))

    for field in ("name", "township", "village"):
        value = (data.get(field) or "").strip()
        limit = CaseWorker.__table__.c[field].type.length
        if "\x00" in value:
            fail("invalid", field)
        elif len(value) > limit:
            fail("too_long", field, limit=limit)
        values[field] = value
    if not values["name"]:
        fail("required", "name")
    role = (data.get("role") or "").strip()
    if role not in WORKER_ROLES:
        fail("role", "role")
    values["role"] = role
    for field in PLACE_REQUIRED.get(role, ()):
        if not values[field]:
            fail("place", field, role=taxonomy.label("worker_roles", role, current_language()))
    raw = (data.get("phone") or "").strip()
    if not raw:
        fail("required", "phone")
    else:
        try:
            values["phone"] = parse_phone(raw[:40])
        except CellError:
            fail("phone", "phone")
    if "phone" in values:
        owner = db.session().scalar(select(CaseWorker).where(CaseWorker.phone == values["phone"]))
        if owner is not None and owner is not record:
            fail("phone_taken", "phone", value=mask(values["phone"]), name=owner.name)
    return values, errors


def _edit(record: CaseWorker | None):
    session = db.session()
    fields = {f: getattr(record, f) for f in FIELDS} if record is not None else {"role": "child_director"}
    errors: list[str] = []
    if request.method == "POST":
        values, errors = check(request.form, record)
        if not errors:
            target = record if record is not None else CaseWorker()
            if record is None:
                session.add(target)
            for name, value in values.items():
                setattr(target, name, value)
            try:
                session.commit()
            except IntegrityError:  # another edit took the number between the check and the commit
                session.rollback()
                errors = [translate("workers.err_conflict")]
            else:
                log.info("console %s %s case worker %d (%s)", current_user().username,
                         "added" if record is None else "edited", target.id, mask(target.phone))
                flash(translate("workers.saved", name=target.name))
                return redirect(url_for("workers.edit", record_id=target.id), code=303)
        fields = {f: (request.form.get(f) or "")[:200] for f in FIELDS}
    return render_template("console/workers/edit.html", record=record, fields=fields, errors=errors), \
        400 if errors else 200


@bp.route("/new", methods=["GET", "POST"])
@roles_required("duty_officer")
def new():
    """Add a case worker."""
    return _edit(None)


@bp.route("/<id:record_id>", methods=["GET", "POST"])
@roles_required("duty_officer")
def edit(record_id: int):
    """One case worker: details and edit form."""
    record = db.session().get(CaseWorker, record_id)
    if record is None:
        abort(404)
    return _edit(record)


@bp.post("/<id:record_id>/active")
@roles_required("duty_officer")
def active(record_id: int):
    """Activate or deactivate a case worker (`active` = 1 or 0); an inactive one gets no new tasks."""
    record = db.session().get(CaseWorker, record_id)
    if record is None:
        abort(404)
    set_active(record, "workers", "case worker", log)
    back = request.form.get("next", "")
    if back.startswith("/console/workers") and not back.startswith("//"):
        return redirect(back, code=303)
    return redirect(url_for("workers.edit", record_id=record.id), code=303)
