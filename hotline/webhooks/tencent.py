"""The Tencent Cloud SMS adapter of the receiving side: the reply callback (短信回复) and the status callback
(短信下发状态通知).

Tencent does not sign its callbacks: both endpoints are guarded by a secret token in the path
(TENCENT_CALLBACK_TOKEN) and, optionally, by the addresses they may come from (TENCENT_CALLBACK_ALLOW;
hotline.webhooks.push_guard). Anything else gets 403 and changes nothing. A reply is one JSON object
{extend, mobile, nationcode, sign, text, time}; it carries no message id, so it is deduplicated by its content
(number, time, text). Status reports come as a JSON array; every item is read before any is acted on (a
malformed request changes nothing), each is committed on its own and is idempotent, and {"result": 0} is answered
only once everything is committed: any other answer asks Tencent to call again.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, abort, request

from dispatch.delivery import record_receipt
from dispatch.inbound import DUPLICATE, receive_sms
from dispatch.jobs import schedule
from dispatch.providers import DeliveryReceipt, InboundSms
from hotline import db
from hotline.webhooks.push_guard import push_allowed
from models import utcnow

log = logging.getLogger(__name__)
bp = Blueprint("tencent", __name__, url_prefix="/tencent")
MAX_BODY_BYTES = 512 * 1024
MAX_ITEMS = 1000
OK = {"result": 0, "errmsg": "OK"}
REPORT_STATUSES = ("SUCCESS", "FAIL")


def _retry(why: str) -> tuple[dict, int]:
    return {"result": 1, "errmsg": why}, 200


def _body(token: str):
    """The callback's JSON body, once the token and address are checked; 403 or 413 otherwise (None if not JSON)."""
    settings = db.settings()
    if not push_allowed(token, settings.tencent_callback_token, settings.tencent_callback_allow):
        log.warning("refused Tencent callback to %s (token or address)", request.endpoint)
        abort(403)
    length = request.content_length
    if length is None or length > MAX_BODY_BYTES:
        abort(413)
    return request.get_json(force=True, silent=True)


def _clean(value: str) -> str:
    return value.replace("\x00", "\ufffd")


def reply_sid(nationcode: str, mobile: str, sent: int, text: str) -> str:
    """The dedup key of a reply, which Tencent gives no id: its number, time and text."""
    digest = hashlib.sha256(f"{nationcode}|{mobile}|{sent}|{text}".encode()).hexdigest()
    return f"tencent:{digest[:40]}"


def _reply(item) -> InboundSms:
    """The reply callback's object as an inbound SMS; 400 when it is not one."""
    if not isinstance(item, dict) or not isinstance(item.get("mobile"), str) or not item["mobile"] \
            or not isinstance(item.get("text"), str) or not isinstance(item.get("time"), int) \
            or isinstance(item.get("time"), bool) or not isinstance(item.get("nationcode", "86"), (str, int)):
        abort(400)
    nationcode, mobile = str(item.get("nationcode") or "86"), _clean(item["mobile"])[:20]
    number = mobile if mobile.startswith("+") else f"+{nationcode}{mobile}"
    return InboundSms(sid=reply_sid(nationcode, mobile, item["time"], item["text"]), from_=number[:32],
                      to=db.settings().sender, text=_clean(item["text"])[:1600])


@bp.post("/<token>/sms-reply")
def sms_reply(token: str):
    """Tencent's reply callback: the reply is an inbound SMS, handled as every provider's; the answer goes by the
    outbox (a template SMS)."""
    sms = _reply(_body(token))
    text, follow = receive_sms(db.session(), sms, db.settings(), utcnow(), answer_by_outbox=True)
    if text is DUPLICATE:  # the same reply in another request right now: let Tencent call again
        return _retry("busy")
    schedule(db.queue(), follow or [])
    return OK


def _reports(items) -> list[DeliveryReceipt]:
    """The status callback's array as receipts; 400 when any item is not a report."""
    if not isinstance(items, list) or len(items) > MAX_ITEMS or not all(
            isinstance(item, dict) and isinstance(item.get("sid"), str) and item["sid"]
            and item.get("report_status") in REPORT_STATUSES for item in items):
        abort(400)
    # Tencent's published report binds by `sid` (the SerialNo SendSms answered); a `session_context`, when one
    # comes, is our outbox key and binds a row whose send timed out before its SerialNo was known.
    return [DeliveryReceipt(sid=_clean(item["sid"])[:64], key=_clean(str(item.get("session_context") or ""))[:120],
                            delivered=item["report_status"] == "SUCCESS",
                            error=_clean(f"{item.get('errmsg') or ''} {item.get('description') or ''}".strip()))
            for item in items]


@bp.post("/<token>/sms-status")
def sms_status(token: str):
    """Tencent's status callback: each report marks its outbox row (by SerialNo) delivered or failed."""
    receipts = _reports(_body(token))
    session, settings, follow, settled = db.session(), db.settings(), [], True
    for receipt in receipts:
        done, more = record_receipt(session, receipt, settings, utcnow())
        session.commit()
        settled = settled and done
        follow.extend(more)
    schedule(db.queue(), follow)
    return OK if settled else _retry("not yet")
