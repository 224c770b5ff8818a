"""The service providers (服务商) in the console: list, add, edit, activate; each with its technicians and prices.

Admins and dispatchers (the bureau's staff who run the elderly line and buy its services), as the technicians'
page: duty officers of the child line have no business with contracts. The form checks a row as the importer does
(hotline/registry/service_rows.py). Providers are never deleted: technicians, visits and statements point at them.
"""
from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.service_rules import price_history
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import translate
from hotline.console.toggles import set_active
from hotline.registry.csv_rows import CellError, parse_phone
from hotline.registry.service_rows import CATEGORY_NAMES, CLASS_NAMES, parse_day, provider_by_name
from models import ServiceProvider, Technician
from models.phone import mask

log = logging.getLogger(__name__)
bp = Blueprint("services", __name__, url_prefix="/console/services")
FIELDS = ("name", "contact_name", "contact_phone", "contract_start", "contract_end")
STATUSES = ("all", "active", "inactive")


def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals: 2050 -> "20.50元"."""
    if fen is None:
        return "-"
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}元"


def provider_name(provider_id: int | None) -> str:
    """The name of a provider by id ("" for none), for any page that shows whose technician it is."""
    if provider_id is None:
        return ""
    provider = db.session().get(ServiceProvider, provider_id)
    return provider.name if provider is not None else ""


@bp.app_context_processor
def _helpers():
    if not request.path.startswith("/console"):
        return {}
    return {"provider_name": provider_name, "yuan": yuan, "local_time": local_time,
            "category_label": lambda code: translate(f"services.category_{code}"),
            "class_label": lambda code: translate(f"services.class_{code}"),
            "category_codes": tuple(CATEGORY_NAMES), "class_codes": tuple(CLASS_NAMES), "all_providers": _all}


def _all() -> list[ServiceProvider]:
    return list(db.session().scalars(select(ServiceProvider).order_by(ServiceProvider.active.desc(),
                                                                      ServiceProvider.name)))


@bp.get("/")
@roles_required("dispatcher")
def index():
    """Every provider, active first, with its contract period; filter by status."""
    status = request.args.get("status", "all")
    status = status if status in STATUSES else "all"
    query = select(ServiceProvider)
    if status != "all":
        query = query.where(ServiceProvider.active.is_(status == "active"))
    rows = db.session().scalars(query.order_by(ServiceProvider.active.desc(), ServiceProvider.name)).all()
    return render_template("console/services/providers.html", rows=rows, status=status, statuses=STATUSES)


def check(data, record: ServiceProvider | None) -> tuple[dict, list[str]]:
    """Cleaned values of a provider form and the messages refusing it (none: OK); nothing is written here."""
    values: dict = {}
    errors: list[str] = []

    def fail(key: str, field: str, **params) -> None:
        errors.append(translate(f"services.err_{key}", field=translate(f"services.field_{field}"), **params))

    for field in ("name", "contact_name"):
        value = (data.get(field) or "").strip()
        limit = ServiceProvider.__table__.c[field].type.length
        if "\x00" in value:
            fail("invalid", field)
        elif len(value) > limit:
            fail("too_long", field, limit=limit)
        values[field] = value
    if not values["name"]:
        fail("required", "name")
    raw = (data.get("contact_phone") or "").strip()
    values["contact_phone"] = ""
    if raw:
        try:
            values["contact_phone"] = parse_phone(raw[:40])
        except CellError:
            fail("phone", "contact_phone")
    for field in ("contract_start", "contract_end"):
        raw = (data.get(field) or "").strip()[:40]
        values[field] = None
        if raw:
            try:
                values[field] = parse_day(raw)
            except CellError:
                fail("day", field)
    start, end = values["contract_start"], values["contract_end"]
    if isinstance(start, date) and isinstance(end, date) and end < start:
        fail("contract_order", "contract_end")
    if values["name"] and not errors:
        owner = provider_by_name(db.session(), values["name"])
        if owner is not None and owner is not record:
            fail("name_taken", "name")
    return values, errors


def _edit(record: ServiceProvider | None):
    session = db.session()
    fields = {f: getattr(record, f) or "" for f in FIELDS} if record is not None else {}
    errors: list[str] = []
    if request.method == "POST":
        values, errors = check(request.form, record)
        if not errors:
            target = record if record is not None else ServiceProvider()
            if record is None:
                session.add(target)
            for name, value in values.items():
                setattr(target, name, value)
            try:
                session.commit()
            except IntegrityError:  # another edit took the name between the check and the commit
                session.rollback()
                errors = [translate("services.err_conflict")]
            else:
                log.info("console %s %s service provider %d (contact %s)", current_user().username,
                         "added" if record is None else "edited", target.id, mask(target.contact_phone))
                flash(translate("services.saved", name=target.name))
                return redirect(url_for("services.edit", record_id=target.id), code=303)
        fields = {f: (request.form.get(f) or "")[:200] for f in FIELDS}
    technicians = session.scalars(select(Technician).where(Technician.provider_id == record.id)
                                  .order_by(Technician.active.desc(), Technician.name)).all() if record else []
    prices = price_history(session, provider_id=record.id) if record else []
    return render_template("console/services/provider.html", record=record, fields=fields, errors=errors,
                           technicians=technicians, prices=prices), 400 if errors else 200


@bp.route("/providers/new", methods=["GET", "POST"])
@roles_required("dispatcher")
def new():
    """Add a service provider."""
    return _edit(None)


@bp.route("/providers/<id:record_id>", methods=["GET", "POST"])
@roles_required("dispatcher")
def edit(record_id: int):
    """One provider: details, edit form, its technicians and its own prices."""
    record = db.session().get(ServiceProvider, record_id)
    if record is None:
        abort(404)
    return _edit(record)


@bp.post("/providers/<id:record_id>/active")
@roles_required("dispatcher")
def active(record_id: int):
    """Activate or deactivate a provider (`active` = 1 or 0); its records and statements stay."""
    record = db.session().get(ServiceProvider, record_id)
    if record is None:
        abort(404)
    set_active(record, "services", "service provider", log)
    return redirect(url_for("services.edit", record_id=record.id), code=303)
