"""dispatch.settlement: a provider's month from the records, figures checked by hand in tests/settlement_rows.py."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch import settlement
from dispatch.settlement import SettlementError
from models import OrderEvent, Payment, StatementStatus, Visit
from tests.settlement_rows import NOVEMBER, NOW, OCTOBER, TZ, load_month

NOVEMBER_NOON = NOW.replace(month=11, day=20)


@pytest.fixture
def month(db):
    return load_month(db)


def _refresh(db, month, short="甲", when=OCTOBER):
    statement = settlement.refresh(db, month.providers[short].id, when, TZ)
    db.commit()
    return statement


def _by_code(statement, month):
    codes = {o.id: code for code, o in month.orders.items()}
    return {codes[line.order_id]: line for line in statement.lines if line.kind == "visit"}


def test_a_month_counts_the_verified_paid_visits_of_the_providers_technicians(db, month):
    statement = _refresh(db, month)
    assert (statement.visits, statement.price_fen, statement.paid_fen, statement.subsidy_fen) == (
        5, 17500, 3750, 11750)
    counted = sorted(code for code, line in _by_code(statement, month).items() if line.counted)
    assert counted == ["100001", "100002", "100003", "100004", "100005"]


def test_the_other_provider_has_its_own_statement(db, month):
    statement = _refresh(db, month, "乙")
    assert (statement.visits, statement.price_fen, statement.paid_fen, statement.subsidy_fen) == (1, 4000, 2000, 2000)
    assert list(_by_code(statement, month)) == ["200001"]


def test_the_price_in_force_on_the_day_settles_each_visit(db, month):
    lines = _by_code(_refresh(db, month), month)
    assert lines["100001"].price_fen == 3000  # 5 October: the old price
    assert lines["100002"].price_fen == 3500  # 20 October: the new price


def test_the_month_is_the_local_month(db, month):
    lines = _by_code(_refresh(db, month), month)
    assert "100005" in lines  # 23:30 on 31 October in Balinzuo is 15:30 UTC
    assert "100010" not in lines  # 00:30 on 1 November local is still 31 October in UTC
    assert "100010" in _by_code(_refresh(db, month, when=NOVEMBER), month)


def test_a_capped_subsidy_is_claimed_only_as_far_as_the_cap_left(db, month):
    line = _by_code(_refresh(db, month), month)["100003"]
    assert (line.price_fen, line.paid_fen, line.subsidy_fen) == (4000, 0, 2000)


def test_a_provider_cannot_claim_more_than_is_left_to_pay(db, month):
    line = _by_code(_refresh(db, month), month)["100004"]
    assert line.subsidy_fen == 1500  # the rules owe 3500, the resident paid 2000 of 3500
    assert "3500" in line.note and "1500" in line.note


def test_visits_not_proved_are_listed_apart_with_the_reason(db, month):
    lines = _by_code(_refresh(db, month), month)
    apart = {code: line.reason for code, line in lines.items() if not line.counted}
    assert apart == {"100006": "disputed", "100007": "too_short", "100008": "unverified", "100009": "no_payment"}


def test_a_visit_still_being_called_is_pending(db, month):
    visit = db.scalar(select(Visit).where(Visit.order_id == month.orders["100001"].id))
    visit.verification = "pending"
    db.commit()
    assert _by_code(_refresh(db, month), month)["100001"].reason == "pending"


def test_a_cleared_visit_counts_at_the_next_refresh(db, month):
    statement = _refresh(db, month)
    settlement.clear_visit(db, statement, month.orders["100006"].id, "officer", "居民电话确认已上门")
    db.commit()
    statement = _refresh(db, month)
    assert _by_code(statement, month)["100006"].counted
    assert (statement.visits, statement.subsidy_fen) == (6, 14750)


def test_a_clearance_is_an_order_event_naming_who_and_why(db, month):
    statement = _refresh(db, month)
    settlement.clear_visit(db, statement, month.orders["100007"].id, "officer", "服务内容已完成")
    db.commit()
    visit = db.scalar(select(Visit).where(Visit.order_id == month.orders["100007"].id))
    assert (visit.cleared_by, visit.cleared_reason) == ("officer", "服务内容已完成")
    event = db.scalar(select(OrderEvent).where(OrderEvent.order_id == month.orders["100007"].id,
                                               OrderEvent.kind == "visit:cleared"))
    assert (event.actor, event.detail) == ("officer", "服务内容已完成")


@pytest.mark.parametrize("code, reason, error", [
    ("100006", "   ", "reason_missing"),
    ("100006", "长" * 501, "reason_too_long"),
    ("100001", "已确认", "not_apart"),
    ("100009", "已确认", "needs_record"),
])
def test_a_clearance_the_rules_refuse_changes_nothing(db, month, code, reason, error):
    statement = _refresh(db, month)
    with pytest.raises(SettlementError) as refused:
        settlement.clear_visit(db, statement, month.orders[code].id, "officer", reason)
    assert refused.value.code == error
    db.rollback()
    assert db.scalar(select(Visit.cleared_at).where(Visit.order_id == month.orders[code].id)) is None


def test_a_month_not_yet_over_cannot_close(db, month):
    statement = _refresh(db, month, when=NOVEMBER)
    with pytest.raises(SettlementError, match="month_not_over"):
        settlement.close(db, statement, "officer", TZ, now=NOVEMBER_NOON)


def test_closing_freezes_the_totals_and_refuses_refresh_and_clearing(db, month):
    statement = _refresh(db, month)
    settlement.close(db, statement, "officer", TZ, now=NOW)
    db.commit()
    assert (statement.status, statement.closed_by, statement.subsidy_fen) == (StatementStatus.CLOSED, "officer", 11750)
    for step in (lambda: settlement.refresh(db, month.providers["甲"].id, OCTOBER, TZ),
                 lambda: settlement.clear_visit(db, statement, month.orders["100006"].id, "officer", "迟到确认"),
                 lambda: settlement.close(db, statement, "officer", TZ, now=NOW)):
        with pytest.raises(SettlementError, match="closed"):
            step()


def _close_october(db, month):
    settlement.close(db, _refresh(db, month), "officer", TZ, now=NOW)
    db.commit()


def _adjustments(statement):
    return [(line.reason, line.price_fen, line.paid_fen, line.subsidy_fen)
            for line in statement.lines if line.kind == "adjustment"]


def test_a_payment_corrected_after_closing_is_adjusted_in_the_next_month(db, month):
    _close_october(db, month)
    payment = db.scalar(select(Payment).where(Payment.order_id == month.orders["100002"].id))
    payment.paid_fen, payment.subsidy_fen = 1000, 2500  # the resident paid 10.00元, not 17.50元
    db.commit()
    november = _refresh(db, month, when=NOVEMBER)
    assert _adjustments(november) == [("corrected", 0, -750, 750)]
    adjustment = next(line for line in november.lines if line.kind == "adjustment")
    october = settlement.statement_for(db, month.providers["甲"].id, OCTOBER)
    assert adjustment.corrects_line_id == _by_code(october, month)["100002"].id
    assert november.subsidy_fen == 3500 + 750  # order 100010 plus the difference only


def test_a_clearance_after_closing_is_adjusted_in_the_next_month(db, month):
    _close_october(db, month)
    november = _refresh(db, month, when=NOVEMBER)
    late = [line.order_id for line in settlement.late_apart(db, november)]
    assert month.orders["100007"].id in late
    settlement.clear_visit(db, november, month.orders["100007"].id, "officer", "补充照片证明时长")
    db.commit()
    november = _refresh(db, month, when=NOVEMBER)
    assert _adjustments(november) == [("cleared", 3000, 1500, 1500)]
    assert month.orders["100007"].id not in [line.order_id for line in settlement.late_apart(db, november)]


def test_an_adjustment_is_made_once_and_the_closed_month_keeps_its_totals(db, month):
    _close_october(db, month)
    payment = db.scalar(select(Payment).where(Payment.order_id == month.orders["100002"].id))
    payment.paid_fen, payment.subsidy_fen = 1000, 2500
    db.commit()
    november = _refresh(db, month, when=NOVEMBER)
    _refresh(db, month, when=NOVEMBER)
    assert len(_adjustments(november)) == 1
    settlement.close(db, november, "officer", TZ, now=NOW)
    db.commit()
    december = _refresh(db, month, when=NOVEMBER.replace(month=12))
    assert _adjustments(december) == []
    october = settlement.statement_for(db, month.providers["甲"].id, OCTOBER)
    assert october.subsidy_fen == 11750


def test_a_correction_undone_before_closing_leaves_no_adjustment(db, month):
    _close_october(db, month)
    payment = db.scalar(select(Payment).where(Payment.order_id == month.orders["100002"].id))
    payment.paid_fen = 1000
    db.commit()
    _refresh(db, month, when=NOVEMBER)
    payment.paid_fen = 1750
    db.commit()
    assert _adjustments(_refresh(db, month, when=NOVEMBER)) == []

