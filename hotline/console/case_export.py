"""Case export as CSV: one row per case for statistics, with no names, numbers or free text by default.

Children's data is sensitive personal information (PIPL): the plain export carries codes, dates, status, the
intake's contact type, risk and categories, and each child's age, sex and township, never a name, a phone
number, a village, a school or the summary. Only an admin may add those, by giving a reason (a POST with the
reason, kept in the access log). Every case exported writes one access-log row: "export", or
"export-identified" with the reason. A refused or malformed request exports and logs nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from dispatch import taxonomy
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import current_language, translate
from hotline.console.report_tables import csv_cell
from hotline.params import parse_day
from models import Case, CaseCategory, CaseStatus, StaffUser, log_access

bp = Blueprint("case_export", __name__, url_prefix="/console/cases")
# Names and numbers: admins only (a blueprint of its own, so the route-roles test names its role).
identified_bp = Blueprint("case_export_identified", __name__, url_prefix="/console/cases")

MAX_REASON = 500
FILTERS = ("status", "contact", "risk", "category", "from", "to")
SEP = "；"


@dataclass(frozen=True)
class Filters:
    """The list's filters, as the export page and the CSV links carry them."""

    status: str = ""
    contact: str = ""
    risk: str = ""
    category: str = ""
    first: str = ""
    last: str = ""

    def args(self) -> dict[str, str]:
        """The filters as query or form fields (empty ones left out)."""
        values = dict(zip(FILTERS, (self.status, self.contact, self.risk, self.category, self.first, self.last)))
        return {k: v for k, v in values.items() if v}


@bp.context_processor
def _labels():
    lang = current_language()
    return {"label": lambda kind, code: taxonomy.label(kind, code, lang),
            "category_label": lambda code: taxonomy.category_label(code, "", lang)}


def _filters(source: MultiDict) -> Filters:
    """The filters asked for; 400 with a clear message for an unknown code or a malformed day."""
    values = {name: (source.get(name) or "").strip() for name in FILTERS}
    allowed = {"status": tuple(CaseStatus), "contact": taxonomy.codes("contact_types"),
               "risk": taxonomy.codes("risk_levels"), "category": taxonomy.codes("categories")}
    for name, codes in allowed.items():
        if values[name] and values[name] not in codes:
            raise BadRequest(translate("case_export.bad_filter", name=translate(f"case_export.filter_{name}")))
    for name in ("from", "to"):
        if values[name] and parse_day(values[name]) is None:
            raise BadRequest(translate("case_export.bad_filter", name=translate(f"case_export.filter_{name}")))
    return Filters(values["status"], values["contact"], values["risk"], values["category"], values["from"],
                   values["to"])


def _query(filters: Filters) -> Select:
    query = (select(Case).options(selectinload(Case.children), selectinload(Case.categories))
             .order_by(Case.created_at, Case.id))
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.contact:
        query = query.where(Case.contact_type == filters.contact)
    if filters.risk:
        query = query.where(Case.risk_level == filters.risk)
    if filters.category:
        query = query.where(Case.id.in_(select(CaseCategory.case_id).where(CaseCategory.category == filters.category)))
    tz = db.settings().tz
    if first := parse_day(filters.first):
        query = query.where(Case.created_at >= datetime.combine(first, time(), tz))
    if last := parse_day(filters.last):
        query = query.where(Case.created_at < datetime.combine(last + timedelta(days=1), time(), tz))
    return query


def _head(identified: bool) -> list[str]:
    keys = ["code", "created", "answered", "acknowledged", "intake", "closed", "status", "contact", "risk",
            "categories", "police_required", "police_reported", "children", "ages", "sexes", "townships"]
    if identified:
        keys += ["caller", "names", "villages", "schools", "summary", "note"]
    return [translate(f"case_export.col_{key}") for key in keys]


def _age(child) -> str:
    return str(child.age) if child.age is not None else (child.age_band or "-")


def _row(case: Case, identified: bool, lang: str) -> list[str]:
    yes_no = translate("case_export.yes"), translate("case_export.no")
    children = case.children
    row = [case.code, local_time(case.created_at), local_time(case.answered_at), local_time(case.acknowledged_at),
           local_time(case.intake_at), local_time(case.closed_at), translate(f"cases.status_{case.status}"),
           taxonomy.label("contact_types", case.contact_type, lang) if case.contact_type else "-",
           taxonomy.label("risk_levels", case.risk_level, lang) if case.risk_level else "-",
           SEP.join(taxonomy.category_label(c.category, c.sub, lang) for c in case.categories),
           yes_no[0] if case.police_required else yes_no[1], local_time(case.police_reported_at),
           str(len(children)), SEP.join(_age(c) for c in children),
           SEP.join(taxonomy.label("sexes", c.sex, lang) for c in children),
           SEP.join(c.township or "-" for c in children)]
    if identified:
        row += [case.caller or "-", SEP.join(c.name or "-" for c in children),
                SEP.join(c.village or "-" for c in children), SEP.join(c.school or "-" for c in children),
                case.summary, case.note]
    return row


def _csv(cases: list[Case], identified: bool) -> bytes:
    """UTF-8 with a BOM so Excel reads Chinese; every cell formula-safe (a name may start with "=")."""
    lang = current_language()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in _head(identified)])
    writer.writerows([csv_cell(c) for c in _row(case, identified, lang)] for case in cases)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _user() -> StaffUser:
    user = current_user()
    assert user is not None  # roles_required let the request in
    return user


def _export(filters: Filters, action: str, reason: str = "") -> Response:
    session = db.session()
    cases = list(session.scalars(_query(filters)))
    body = _csv(cases, identified=action == "export-identified")
    log_access(session, _user().username, [case.id for case in cases], request.path, action,
               request.remote_addr or "", reason)
    session.commit()
    stamp = datetime.now(db.settings().tz).strftime("%Y%m%d-%H%M")
    name = f"hotline-cases-{'identified-' if reason else ''}{stamp}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/export")
@roles_required("duty_officer")
def page():
    """The export page: the list's filters, the plain download, and (admins) the identified one with a reason."""
    filters = _filters(request.args)
    return render_template("console/case_export/index.html", filters=filters, statuses=tuple(CaseStatus),
                           contacts=taxonomy.codes("contact_types"), risks=taxonomy.codes("risk_levels"),
                           categories=taxonomy.codes("categories"), max_reason=MAX_REASON,
                           admin=_user().role == "admin")


@bp.get("/export.csv")
@roles_required("duty_officer")
def export():
    """The cases of the filters as CSV, without names, numbers or free text; each case exported is logged."""
    return _export(_filters(request.args), "export")


@identified_bp.post("/export-identified.csv")
@roles_required()  # admin only
def export_identified():
    """The same rows with the caller's number, the children's names, villages, schools, summary and note,
    after an admin's reason; each case exported is logged with that reason."""
    filters = _filters(request.form)
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > MAX_REASON:
        key = "case_export.reason_missing" if not reason else "case_export.reason_too_long"
        flash(translate(key, max=MAX_REASON), "error")
        query = urlencode(filters.args())
        return redirect(url_for("case_export.page") + (f"?{query}" if query else ""), code=303)
    return _export(filters, "export-identified", reason)
