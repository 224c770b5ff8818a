"""Child-line cases in the console: list, detail, reveal the caller, acknowledge, close. Every read and write
is logged.

Callers are often children. The list writes one access-log row per case shown (action "list", as the JSON
API logs a row per case it returns); a detail page writes "read"; playing the recording writes "listen";
revealing the number writes "reveal" with the officer's reason; acknowledging writes "write:ack" and closing
"write:close". Refused requests (wrong role, unknown case, missing reason or note, wrong state) write nothing.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.case_alerts import acknowledge, acknowledged_by_name
from dispatch.intake import close_refusal
from dispatch.recordings import RecordingUnavailable, fetch as fetch_recording, media_url
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time, minutes_between
from hotline.console.i18n import translate
from hotline.console.intake import case_panel
from hotline.console.message_text import mask_numbers, spoken_text
from hotline.console.paging import paginate
from models import (
    CASE_CLOSABLE,
    CASE_TRANSITIONS,
    CASE_UNACKNOWLEDGED,
    Case,
    CaseStatus,
    Message,
    case_event,
    log_access as models_log_access,
    utcnow,
)
from models.lifecycle import guarded_update

log = logging.getLogger(__name__)
bp = Blueprint("casework", __name__, url_prefix="/console/cases")

PER_PAGE = 50
MAX_REASON = 500
MAX_NOTE = 2000


@bp.context_processor
def _helpers():
    return {"local_time": local_time, "minutes_between": minutes_between, "mask_numbers": mask_numbers,
            "spoken_text": spoken_text, "acknowledged_by_name": acknowledged_by_name}


def log_access(cases: list[Case], action: str, reason: str = "") -> None:
    """One access-log row per case for the current user and request (caller commits)."""
    models_log_access(db.session(), current_user().username, [case.id for case in cases], request.path, action,
                      request.remote_addr or "", reason)


def _case(code: str) -> Case:
    case = db.session().scalar(
        select(Case).where(Case.code == code)
        .options(selectinload(Case.events), selectinload(Case.answered_by), selectinload(Case.acknowledged_by)))
    if case is None:
        abort(404)
    return case


def _back(code: str, key: str, category: str = "info", **values):
    flash(translate(key, **values), category)
    return redirect(url_for("casework.detail", code=code), code=303)


@bp.get("/")
@roles_required("duty_officer")
def index():
    """Cases newest first (`?status=` filters), callers masked; each case shown is access-logged."""
    status = request.args.get("status", "")
    query = (select(Case).options(selectinload(Case.answered_by), selectinload(Case.acknowledged_by))
             .order_by(Case.created_at.desc(), Case.id.desc()))
    if status in tuple(CaseStatus):
        query = query.where(Case.status == status)
    page = paginate(db.session(), query, PER_PAGE)
    log_access(page.items, "list")
    db.session().commit()
    return render_template("console/cases/index.html", page=page, status=status, statuses=tuple(CaseStatus))


def _render_detail(case: Case, revealed: str | None = None, status: int = 200):
    # What the hotline sent about the case; the SMS answers given in a webhook response are left out.
    alerts = list(db.session().scalars(select(Message).where(Message.case_id == case.id,
                                                             Message.direction == "outbound",
                                                             Message.status != "twiml").order_by(Message.id)))
    recording = case.recording_url if (case.recording_url or "").startswith(("https://", "http://")) else None
    # Played through the console (the provider may require credentials for media); each play is logged.
    audio = url_for("casework.recording", code=case.code) if media_url(_settings(), recording) else None
    return render_template("console/cases/detail.html", case=case, alerts=alerts, recording=recording,
                           audio=audio, revealed=revealed, can_ack=case.status in CASE_UNACKNOWLEDGED,
                           can_close=case.status in CASE_CLOSABLE, **case_panel(case)), status


@bp.get("/<code>")
@roles_required("duty_officer")
def detail(code: str):
    """One case: its timeline, alerts and recording; the view is access-logged."""
    case = _case(code)
    log_access([case], "read")
    db.session().commit()
    return _render_detail(case)


@bp.get("/<code>/recording.mp3")
@roles_required("duty_officer")
def recording(code: str):
    """The caller's message, fetched from the provider with the account's credentials; logged as "listen"."""
    case = _case(code)
    try:
        audio = fetch_recording(_settings(), case.recording_url)
    except RecordingUnavailable as exc:
        log.warning("case %s: recording not available (%s)", case.code, exc)
        abort(404)
    log_access([case], "listen")
    db.session().commit()
    return Response(audio, mimetype="audio/mpeg", headers={"Cache-Control": "private, no-store"})


def _settings():
    return db.settings()


@bp.post("/<code>/reveal")
@roles_required("duty_officer")
def reveal(code: str):
    """Show the caller's full number on this response only, after logging who asked and why."""
    case = _case(code)
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _back(code, "cases.reveal_needs_reason", "error")
    if len(reason) > MAX_REASON:
        return _back(code, "cases.reveal_reason_too_long", "error", max=MAX_REASON)
    log_access([case], "reveal", reason)
    db.session().commit()
    log.info("case %s: caller number revealed to %s", case.code, current_user().username)
    return _render_detail(case, revealed=case.caller or "-")


@bp.post("/<code>/ack")
@roles_required("duty_officer")
def ack(code: str):
    """Acknowledge a voicemail or missed case as an officer's SMS would: the alert rounds stop."""
    case = _case(code)
    if case.status not in CASE_UNACKNOWLEDGED:
        return _back(code, "cases.ack_wrong_state", "error", status=translate(f"cases.status_{case.status}"))
    won = acknowledge(db.session(), case, None, "console", utcnow(), actor=current_user().username,
                      route=request.path, remote_addr=request.remote_addr or "")
    db.session().commit()
    if not won:  # an officer's SMS got there between the page load and this request
        return _back(code, "cases.ack_already", "error", name=acknowledged_by_name(case))
    return _back(code, "cases.ack_done")


@bp.post("/<code>/close")
@roles_required("duty_officer")
def close(code: str):
    """Close an answered or acknowledged case with a note of what was done."""
    case = _case(code)
    note = request.form.get("note", "").strip()
    if not note:
        return _back(code, "cases.close_needs_note", "error")
    if len(note) > MAX_NOTE:
        return _back(code, "cases.close_note_too_long", "error", max=MAX_NOTE)
    # A case is closed once a person has dealt with it: answered live, or acknowledged after an alert.
    if case.status not in CASE_CLOSABLE:
        key = "cases.close_unacknowledged" if case.status in CASE_UNACKNOWLEDGED else "cases.close_wrong_state"
        return _back(code, key, "error", status=translate(f"cases.status_{case.status}"))
    refusal = close_refusal(case)  # intake, police report, ...: the rule is dispatch's
    if refusal is not None:
        return _back(code, refusal, "error")
    session = db.session()
    now = utcnow()
    # Conditional, so a second close (another tab, another officer) cannot overwrite the first note.
    transition = CASE_TRANSITIONS[CaseStatus.CLOSED]
    closed = session.execute(
        guarded_update(Case.__table__, transition, case.id, now).values(note=note)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not closed:
        session.rollback()
        return _back(code, "cases.close_wrong_state", "error", status=translate(f"cases.status_{CaseStatus.CLOSED}"))
    session.refresh(case)
    case_event(session, case, transition.event, note, actor=current_user().username)
    log_access([case], "write:close")
    session.commit()
    log.info("case %s closed by %s", case.code, current_user().username)
    return _back(code, "cases.close_done")
