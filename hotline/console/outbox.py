"""The message log: every SMS and call the hotline sent (or, in local mode, recorded) and every SMS received.

Privacy follows the roles: child-line alerts (messages of a case) are for duty officers, messages about an
elderly-line order for dispatchers; admins see everything. Numbers are masked everywhere, bodies included.
The SMS answers given in a webhook response (status "twiml") are left out, as `flask outbox` does.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from dispatch.call_budget import LIMITED
from dispatch.delivery import account_empty_since
from dispatch.held_calls import CANCELLED_PREFIX
from hotline import db
from hotline.console.auth import can, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import translate
from hotline.console.message_text import mask_numbers, spoken_text
from hotline.console.paging import paginate
from models import Case, Message, Order

bp = Blueprint("outbox", __name__, url_prefix="/console/outbox")
PER_PAGE = 100
CHANNELS = ("sms", "call")
DIRECTIONS = ("outbound", "inbound")
STATUSES = ("queued", "sending", "unknown", "sent", "delivered", "local", "failed", "received", "held", "merged",
            "cancelled")
# The budgets' statuses are labelled in their own text files (texts/<lang>/sms_budget.json, call_budget.json).
BUDGET_STATUSES = ("held", "merged")


def status_key(status: str, channel: str = "") -> str:
    """The console text key of a message status (a held call is held by the call budget, not the SMS one)."""
    if status == "cancelled" or (status == "held" and channel == "call"):
        return f"call_budget.status_{status}"
    return f"sms_budget.status_{status}" if status in BUDGET_STATUSES else f"outbox.status_{status}"


def error_text(message: Message) -> str:
    """The row's error as the table shows it: why a held call was not placed, or was refused, in words; else
    the provider's message, numbers masked."""
    error = message.error or ""
    if error.startswith(CANCELLED_PREFIX):
        return translate(f"call_budget.why_{error.removeprefix(CANCELLED_PREFIX)}")
    if error.startswith(LIMITED):
        return f"{translate('call_budget.provider_limited')} ({mask_numbers(error.removeprefix(LIMITED))})"
    return mask_numbers(error)


def visible_messages():
    """The query of messages the current user may see, newest first."""
    query = (select(Message, Order.code, Case.code)
             .outerjoin(Order, Message.order_id == Order.id).outerjoin(Case, Message.case_id == Case.id)
             .where(Message.status != "twiml")
             .order_by(Message.created_at.desc(), Message.id.desc()))
    if not can("duty_officer"):
        query = query.where(Message.case_id.is_(None))
    if not can("dispatcher"):
        query = query.where(Message.order_id.is_(None))
    return query


def shown_text(message: Message) -> str:
    """The message as the table shows it: an SMS body, or the words of a call; numbers masked."""
    return mask_numbers(message.body if message.channel == "sms" else spoken_text(message.body))


@bp.get("/")
@roles_required("dispatcher", "duty_officer")
def index():
    """The message log, filtered by `?channel=`, `?status=` and `?direction=`, a page at a time."""
    filters = {name: request.args.get(name, "") for name in ("channel", "status", "direction")}
    query = visible_messages()
    for name, allowed in (("channel", CHANNELS), ("status", STATUSES), ("direction", DIRECTIONS)):
        if filters[name] in allowed:
            query = query.where(getattr(Message, name) == filters[name])
        else:
            filters[name] = ""
    page = paginate(db.session(), query, PER_PAGE, scalars=False)
    # The provider account cannot send (Alibaba: out of credit): said on top, until an SMS goes out again.
    empty_since = account_empty_since(db.session())
    return render_template("console/outbox/index.html", page=page, filters=filters, channels=CHANNELS,
                           account_empty_since=empty_since,
                           statuses=STATUSES, directions=DIRECTIONS, shown_text=shown_text, status_key=status_key,
                           error_text=error_text,
                           mask_numbers=mask_numbers, local_time=local_time)
