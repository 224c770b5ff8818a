"""The JSON API of child-line cases. Callers are often children: every read is written to the access log.

Like the console's export, the API carries no caller's number in full (masked) and no child's name: a token
has no user to give a reason, so the identified view is the console's, for an admin with a reason."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline import db
from hotline.params import BadParameter, int_arg, json_bad_parameter
from hotline.security import api_token_required
from models import Case, log_access
from models.phone import mask

bp = Blueprint("cases_api", __name__, url_prefix="/api")
bp.register_error_handler(BadParameter, json_bad_parameter)
API_ACTOR = "api-token"


def _iso(value):
    return value.isoformat() if value else None


def _person(officer):
    return {"name": officer.name, "phone": officer.phone} if officer else None


def case_json(case: Case) -> dict:
    """The public shape of a case (the recording URL is served here and nowhere else)."""
    return {
        "code": case.code,
        "status": case.status,
        "caller": mask(case.caller) if case.caller else "",
        "created_at": _iso(case.created_at),
        "answered_at": _iso(case.answered_at),
        "answered_by": _person(case.answered_by),
        "acknowledged_at": _iso(case.acknowledged_at),
        "acknowledged_by": _person(case.acknowledged_by),
        "recording_url": case.recording_url,
        "events": [{"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in case.events],
    }


def _log_reads(cases: list[Case]) -> None:
    session = db.session()
    log_access(session, API_ACTOR, [case.id for case in cases], request.path, "read", request.remote_addr or "")
    session.commit()


def _cases():
    return select(Case).options(selectinload(Case.answered_by), selectinload(Case.acknowledged_by),
                                selectinload(Case.events))


@bp.get("/cases")
@api_token_required
def list_cases():
    """All cases, newest first (`?status=` filters, `?limit=` caps, default 200); each read is access-logged."""
    query = _cases().order_by(Case.created_at.desc(), Case.id.desc())
    if status := request.args.get("status"):
        query = query.where(Case.status == status)
    query = query.limit(int_arg("limit", 200, 1, 2000))
    cases = list(db.session().scalars(query))
    body = {"cases": [case_json(c) for c in cases]}
    _log_reads(cases)
    return body


@bp.get("/cases/<code>")
@api_token_required
def get_case(code: str):
    """One case by code; the read is access-logged."""
    case = db.session().scalar(_cases().where(Case.code == code))
    if case is None:
        return {"error": "not found"}, 404
    body = case_json(case)
    _log_reads([case])
    return body
