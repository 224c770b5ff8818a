"""The access log for admins: who read or revealed which child-line case, newest first."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from hotline import db
from hotline.console.auth import roles_required
from hotline.console.clock import local_time
from hotline.console.paging import paginate
from models import AccessLog, Case

bp = Blueprint("audit", __name__, url_prefix="/console/audit")
PER_PAGE = 100


@bp.get("/")
@roles_required()  # admin only
def index():
    """Access-log rows newest first; `?actor=` and `?case=` (a case code) filter exactly."""
    actor = request.args.get("actor", "").strip()[:100]
    code = request.args.get("case", "").strip()[:8]
    query = (select(AccessLog, Case.code).outerjoin(Case, AccessLog.case_id == Case.id)
             .order_by(AccessLog.at.desc(), AccessLog.id.desc()))
    if actor:
        query = query.where(AccessLog.actor == actor)
    if code:
        query = query.where(Case.code == code)
    page = paginate(db.session(), query, PER_PAGE, scalars=False)
    return render_template("console/audit/index.html", page=page, actor=actor, code=code, local_time=local_time)
