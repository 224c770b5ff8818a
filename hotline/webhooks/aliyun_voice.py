"""Alibaba Cloud's voice report push (VoiceReport, HTTP batch push): each ended call settles its outbox row and
brings the keys pressed to the call's answer target.

Guarded as the SMS pushes are (hotline/webhooks/aliyun.py: the path token, the optional address allowlist, a
batch read whole before any item is acted on, each item committed on its own, `{"code": 0}` only once all are).
The report's out_id is our outbox row's id (dispatch/providers/aliyun_voice.py sends it); its callee must be that
row's number. Idempotent by call_id (dispatch/call_reports.py).
"""
from __future__ import annotations

from flask import Blueprint

from dispatch.call_reports import record_call_report
from dispatch.jobs import schedule
from dispatch.providers import CallReport
from hotline import db
from hotline.webhooks.aliyun import OK, push_batch, retry_later
from models import utcnow
from models.phone import try_normalise

bp = Blueprint("aliyun_voice", __name__, url_prefix="/aliyun")
# status_code of a call somebody answered: listened to the end, hung up early, answered but pressed no key in
# time, a call ended after being connected (Alibaba's call status codes).
ANSWERED = {"200000", "200001", "200008", "200100"}
# Alibaba's report carries several fields; these must be there, of these types (anything else: 400).
FIELDS: dict[str, tuple[type, ...]] = {"call_id": (str,), "out_id": (str, int), "callee": (str,),
                                       "status_code": (str, int)}


def _row_id(out_id) -> int | None:
    text = str(out_id).strip()
    return int(text) if text.isdigit() and len(text) <= 15 else None


def report_of(item: dict) -> CallReport:
    """One VoiceReport item as the neutral call report (the number in E.164; dtmf's keys as digits)."""
    code = str(item["status_code"])
    answered = code in ANSWERED or item.get("smart_status_code") == "ANSWERED"
    return CallReport(call_id=item["call_id"][:64], message_id=_row_id(item["out_id"]),
                      to=try_normalise(item["callee"]) or "", answered=answered,
                      outcome=f"{code} {item.get('status_msg') or ''}".strip(),
                      digits=str(item.get("dtmf") or "").strip())


@bp.post("/<token>/voice-report")
def voice_report(token: str):
    """Alibaba's VoiceReport push: each call report marks its outbox row and hands on the key pressed."""
    items = push_batch(token, FIELDS)
    session, settings, follow, settled = db.session(), db.settings(), [], True
    for item in items:
        done, more = record_call_report(session, report_of(item), settings, utcnow())
        session.commit()
        settled = settled and done
        follow.extend(more)
    schedule(db.queue(), follow)
    return OK if settled else retry_later("not yet")
