"""Payments in the console: an order's payment panel, staff recording or correcting it, the missing ones.

Dispatchers (the bureau staff who run the elderly line) and admins; not duty officers (the child line)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.payment_replies import BadPayment, PaidReport, parse_amount
from dispatch.payments import MAX_REFERENCE, Refused, payment_of, record_payment
from dispatch.pricing import Priced, price_order, yuan
from dispatch.texts import category_name
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import current_language, translate
from models import Order, OrderStatus, utcnow
from models.visits import PAYMENT_METHODS, Payment

bp = Blueprint("payments", __name__, url_prefix="/console/payments")
ROW_LIMIT = 200
MAX_AMOUNT_TEXT = 20


@dataclass(frozen=True)
class Panel:
    """What an order's page shows about its payment: the row if recorded, and the figures by today's pricing."""

    payment: Payment | None
    priced: Priced
    methods: tuple[str, ...] = PAYMENT_METHODS


def panel(session, order: Order) -> Panel | None:
    """The payment panel of a completed order (None for an order not completed)."""
    if order.status != OrderStatus.COMPLETED:
        return None
    return Panel(payment_of(session, order.id), price_order(session, order, db.settings().tz))


def _report(form) -> PaidReport:
    """The payment staff typed; Refused for an amount we cannot read."""
    method = form.get("method", "")
    amount = (form.get("amount") or "").strip()
    if len(amount) > MAX_AMOUNT_TEXT or "\x00" in amount:
        raise Refused("amount")
    try:
        paid = 0 if method == "subsidy_only" and not amount else parse_amount(amount)
    except BadPayment:
        raise Refused("amount") from None
    reference = (form.get("reference") or "").strip().upper()
    if len(reference) > MAX_REFERENCE:
        raise Refused("reference", limit=MAX_REFERENCE)
    return PaidReport(method, paid, reference)


@bp.post("/order/<id:order_id>")
@roles_required("dispatcher")
def record(order_id: int):
    """Record or correct what the resident paid for a completed order (logged on its timeline with who)."""
    session = db.session()
    order = session.get(Order, order_id)
    if order is None:
        abort(404)
    try:
        record_payment(session, order, _report(request.form), "console", current_user().username, db.settings(),
                       utcnow())
    except Refused as refused:
        session.rollback()
        flash(translate(f"payment.refused.{refused.reason}", **refused.values), "error")
        return redirect(url_for("board.detail", order_id=order_id))
    session.commit()
    flash(translate("payment.done", code=order.code), "ok")
    return redirect(url_for("board.detail", order_id=order_id))


@bp.get("/missing")
@roles_required("dispatcher")
def missing():
    """Completed orders with no payment recorded yet (a bare `完成`), newest first."""
    session = db.session()
    paid = select(Payment.order_id)
    rows = list(session.scalars(
        select(Order).options(selectinload(Order.resident), selectinload(Order.technician))
        .where(Order.status == OrderStatus.COMPLETED, Order.id.not_in(paid))
        .order_by(Order.completed_at.desc(), Order.id.desc()).limit(ROW_LIMIT + 1)))
    tz, lang = db.settings().tz, current_language()
    return render_template("console/payments/missing.html", orders=rows[:ROW_LIMIT], capped=len(rows) > ROW_LIMIT,
                           when=lambda at: at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "-",
                           category=lambda code: category_name(lang, code))


def template_helpers() -> dict:
    """What the order page's payment panel needs besides the panel: yuan formatting."""
    return {"yuan": yuan}

