"""The Alibaba Cloud adapter of the receiving side: the HTTP batch push of SmsUp (replies) and SmsReport (receipts).

Alibaba's push is not signed: each endpoint is guarded by a secret token in its path (ALIYUN_PUSH_TOKEN) and,
optionally, by the addresses it may come from (ALIYUN_PUSH_ALLOW; hotline.webhooks.push_guard). Anything else
gets 403 and changes nothing. A batch is a JSON array; every item is read before any is acted on (a malformed
batch changes nothing), each is committed on its own and is idempotent (an SmsUp by its sequence_id, a receipt by
its content), and the answer {"code": 0} comes only once the whole batch is committed: any other answer makes
Alibaba push the batch again later.
"""
from __future__ import annotations

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
bp = Blueprint("aliyun", __name__, url_prefix="/aliyun")
MAX_PUSH_BYTES = 512 * 1024  # a batch of a few hundred items; larger is not Alibaba's
MAX_ITEMS = 1000
OK = {"code": 0, "msg": "接收成功"}


def retry_later(why: str) -> tuple[dict, int]:
    """An answer other than code 0: Alibaba pushes the batch again later."""
    return {"code": 1, "msg": why}, 200


def push_batch(token: str, fields: dict[str, tuple[type, ...]]) -> list[dict]:
    """The pushed array, every item with the given fields of the given types; 403 or 400 otherwise."""
    settings = db.settings()
    if not push_allowed(token, settings.aliyun_push_token, settings.aliyun_push_allow):
        log.warning("refused Alibaba push to %s (token or address)", request.endpoint)
        abort(403)
    length = request.content_length
    if length is None or length > MAX_PUSH_BYTES:
        abort(413)
    items = request.get_json(force=True, silent=True)
    if not isinstance(items, list) or len(items) > MAX_ITEMS or not all(
            isinstance(item, dict) and all(isinstance(item.get(name), kinds) for name, kinds in fields.items())
            for item in items):
        abort(400)
    return [{name: str(value).replace("\x00", "\ufffd") if isinstance(value, str) else value
             for name, value in item.items()} for item in items]


@bp.post("/<token>/sms-up")
def sms_up(token: str):
    """Alibaba's SmsUp push: each reply is an inbound SMS, handled as every provider's; answers go by the outbox."""
    items = push_batch(token, {"phone_number": (str,), "content": (str,), "sequence_id": (int, str)})
    session, settings, follow = db.session(), db.settings(), []
    for item in items:
        sms = InboundSms(sid=f"aliyun:{item['sequence_id']}"[:64], from_=item["phone_number"][:32],
                         to=settings.sender, text=item["content"][:1600])
        text, more = receive_sms(session, sms, settings, utcnow(), answer_by_outbox=True)
        if text is DUPLICATE:  # the same reply in another request right now: let Alibaba push it again
            schedule(db.queue(), follow)
            return retry_later("busy")
        follow.extend(more or [])
    schedule(db.queue(), follow)
    return OK


@bp.post("/<token>/sms-report")
def sms_report(token: str):
    """Alibaba's SmsReport push: each receipt marks its outbox row delivered or failed."""
    items = push_batch(token, {"biz_id": (str,), "success": (bool,)})
    session, settings, follow, settled = db.session(), db.settings(), [], True
    for item in items:
        receipt = DeliveryReceipt(sid=item["biz_id"][:64], key=str(item.get("out_id") or "")[:120],
                                  delivered=item["success"],
                                  error=f"{item.get('err_code') or ''} {item.get('err_msg') or ''}".strip())
        done, more = record_receipt(session, receipt, settings, utcnow())
        session.commit()
        settled = settled and done
        follow.extend(more)
    schedule(db.queue(), follow)
    return OK if settled else retry_later("not yet")
