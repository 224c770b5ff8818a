"""Recording what the resident paid for a completed order, with its price and subsidy (SMS or console)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order, OrderStatus, add_event
from models.visits import PAYMENT_METHODS, Payment

from .payment_replies import REFERENCE_METHODS, PaidReport
from .pricing import price_order, yuan
from .settings import DispatchSettings
from .texts import render

log = logging.getLogger(__name__)
MAX_REFERENCE = 64


class Refused(ValueError):
    """A payment that cannot be recorded; `reason` names why (a console text key), `values` fill the text."""

    def __init__(self, reason: str, **values):
        super().__init__(reason)
        self.reason = reason
        self.values = values


def payment_of(session: Session, order_id: int) -> Payment | None:
    """The payment recorded for an order, if any."""
    return session.scalar(select(Payment).where(Payment.order_id == order_id))


def check_report(report: PaidReport) -> PaidReport:
    """A report staff typed, checked as the SMS one is: a known method, no amount with 免费, a reference only for
    e-CNY and WeChat/Alipay and at most MAX_REFERENCE characters; Refused otherwise."""
    if report.method not in PAYMENT_METHODS:
        raise Refused("method")
    if report.method == "subsidy_only" and report.paid_fen != 0:
        raise Refused("free_amount")
    if report.method != "subsidy_only" and report.paid_fen <= 0:
        raise Refused("amount")
    if report.reference and report.method not in REFERENCE_METHODS:
        raise Refused("reference_method")
    bad = len(report.reference) > MAX_REFERENCE or not report.reference.replace("-", "").isascii()
    if report.reference and (bad or not report.reference.replace("-", "").isalnum()):
        raise Refused("reference", limit=MAX_REFERENCE)
    return report


def record_payment(session: Session, order: Order, report: PaidReport, source: str, actor: str,
                   settings: DispatchSettings, now: datetime) -> Payment:
    """Record (or correct) the payment of a completed order and price it by the rules of its completion day;
    logged on the order's timeline with who did it (caller commits)."""
    if order.status != OrderStatus.COMPLETED:
        raise Refused("not_completed")
    check_report(report)
    priced = price_order(session, order, settings.tz)  # before a new row exists: its query would flush it
    payment = payment_of(session, order.id)
    kind = "payment" if payment is None else "payment_corrected"
    if payment is None:
        payment = Payment(order_id=order.id)
        session.add(payment)
    payment.method, payment.paid_fen, payment.reference = report.method, report.paid_fen, report.reference
    payment.source, payment.recorded_at, payment.recorded_by = source, now, actor
    payment.price_fen, payment.subsidy_fen = priced.price_fen, priced.subsidy_fen
    payment.price_rule_id, payment.subsidy_rule_id = priced.price_rule_id, priced.subsidy_rule_id
    add_event(session, order, kind, describe(settings.ivr_language, payment), actor)
    log.info("order %s: payment %s recorded (%s)", order.code, report.method, source)
    return payment


def describe(lang: str, payment: Payment) -> str:
    """One line for the timeline: method, amount, reference, price and subsidy."""
    text = render(lang, "payment_line", method=render(lang, f"pay_{payment.method}"), paid=yuan(payment.paid_fen),
                  price=yuan(payment.price_fen), subsidy=yuan(payment.subsidy_fen))
    return f"{text} · {payment.reference}" if payment.reference else text
