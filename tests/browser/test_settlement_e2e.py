"""The monthly settlement in a real (headless) Chromium: open a provider's month, clear a line apart with a
reason, close the month, and open its printable statement (saved as a screenshot)."""
from __future__ import annotations

from sqlalchemy import select

from models import Statement, StatementStatus
from tests.settlement_rows import load_month


def test_a_month_is_cleared_closed_and_printed(console, app):
    with app.extensions["hotline"].session_factory() as session:
        month = load_month(session)
        provider_id = month.providers["甲"].id
    page = console.page("dispatcher", "settler")
    page.goto("/console/settlement/?month=2026-10")
    page.click(f'tr[data-provider-id="{provider_id}"] a')
    page.wait_for_selector("#statement-status")
    assert page.inner_text("#total-subsidy") == "117.50元"
    console.screenshot(page, "settlement-01-open-month")

    row = '#apart tr[data-order-code="100006"]'
    page.fill(f"{row} input[name=reason]", "居民回电确认已上门服务")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#total-subsidy") == "147.50元"  # 117.50 + the disputed 30.00 now cleared
    assert page.locator('#counted tr[data-order-code="100006"]').count() == 1

    page.click("#close-month")
    page.wait_for_selector("#closed-note")
    assert "已结账" in page.inner_text("#statement-status")
    assert page.locator("#close-month").count() == 0 and page.locator("#apart form").count() == 0
    with app.extensions["hotline"].session_factory() as session:
        statement = session.scalar(select(Statement).where(Statement.provider_id == provider_id))
        assert (statement.status, statement.subsidy_fen) == (StatementStatus.CLOSED, 14750)

    page.click("#statement-print")
    page.wait_for_selector("#print-title")
    assert page.inner_text("#print-capital") == "壹佰肆拾柒元伍角整"
    assert "已结账" in page.inner_text("#print-status")
    assert page.locator("script").count() == 0
    path = console.screenshot(page, "settlement-02-printable-statement")
    assert path.stat().st_size > 10_000
