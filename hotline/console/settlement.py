"""The monthly settlement pages (admin and dispatcher = bureau staff who run the elderly line): per provider and
month the statement built from the records, clearing a line apart with a reason, closing the month, its CSV and
a printable page for signature and stamp. An open month is rebuilt from the records each time it is opened."""
from __future__ import annotations

import logging
import re
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from dispatch import settlement
from dispatch.settlement import SettlementError
from hotline import db
from hotline.console.amounts import yuan
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import translate
from hotline.console.settlement_view import build, text, to_csv
from hotline.params import parse_id
from models import ServiceProvider, Statement, StatementStatus, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("settlement", __name__, url_prefix="/console/settlement")
ROLES = ("dispatcher",)  # and admin
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _this_month() -> date:
    return utcnow().astimezone(db.settings().tz).date().replace(day=1)


def _last_month() -> date:
    this = _this_month()
    return date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)


def _month() -> tuple[date, str | None]:
    """`?month=YYYY-MM` (up to this month), else last month with the reason."""
    raw = request.args.get("month", "").strip()
    if not raw:
        return _last_month(), None
    if _MONTH.fullmatch(raw):
        year, month = int(raw[:4]), int(raw[5:])
        if 2000 <= year and 1 <= month <= 12 and date(year, month, 1) <= _this_month():
            return date(year, month, 1), None
    return _last_month(), translate("settlement.error.bad_month")


@bp.get("/")
@roles_required(*ROLES)
def index():
    """The providers and the state of their statement for the month chosen."""
    month, error = _month()
    session = db.session()
    providers = list(session.scalars(select(ServiceProvider).order_by(ServiceProvider.name)))
    statements = {s.provider_id: s for s in session.scalars(select(Statement).where(Statement.month == month))}
    return render_template("console/settlement/index.html", month=month, error=error, providers=providers,
                           statements=statements, yuan=yuan)


def _statement(statement_id: int) -> Statement:
    statement = db.session().get(Statement, statement_id)
    if statement is None:
        abort(404)
    return statement


def _show(statement: Statement):
    session = db.session()
    late = settlement.late_apart(session, statement) if statement.status == StatementStatus.OPEN else []
    return render_template("console/settlement/statement.html", view=build(session, statement, late), yuan=yuan,
                           local_time=local_time)


@bp.get("/provider/<id:provider_id>")
@roles_required(*ROLES)
def provider(provider_id: int):
    """One provider's month: an open month is refreshed from the records first, a closed one shown as closed."""
    session = db.session()
    if session.get(ServiceProvider, provider_id) is None:
        abort(404)
    month, error = _month()
    if error:
        flash(error, "error")
    statement = settlement.statement_for(session, provider_id, month)
    if statement.status == StatementStatus.OPEN:
        settlement.refresh(session, provider_id, month, db.settings().tz)
    session.commit()
    return _show(statement)


def _back(statement: Statement):
    return redirect(url_for("settlement.provider", provider_id=statement.provider_id,
                            month=f"{statement.month:%Y-%m}"))


def _refused(statement: Statement, error: SettlementError):
    db.session().rollback()
    flash(translate(f"settlement.error.{error.code}"), "error")
    return _back(statement)


@bp.post("/statement/<id:statement_id>/clear")
@roles_required(*ROLES)
def clear(statement_id: int):
    """Clear a visit listed apart, with a reason: counted from the next refresh (an adjustment if its month closed)."""
    statement = _statement(statement_id)
    order_id = parse_id(request.form.get("order_id"))
    reason = request.form.get("reason", "")
    if order_id is None:
        return _refused(statement, SettlementError("not_apart"))
    try:
        settlement.clear_visit(db.session(), statement, order_id, current_user().username, reason)
    except SettlementError as error:
        return _refused(statement, error)
    db.session().commit()
    log.info("settlement: order %s cleared by %s", order_id, current_user().username)
    flash(translate("settlement.cleared"), "ok")
    return _back(statement)


@bp.post("/statement/<id:statement_id>/close")
@roles_required(*ROLES)
def close(statement_id: int):
    """Close the month: refreshed one last time, then its totals frozen and the statement read-only."""
    statement = _statement(statement_id)
    try:
        settlement.close(db.session(), statement, current_user().username, db.settings().tz)
    except SettlementError as error:
        return _refused(statement, error)
    db.session().commit()
    log.info("settlement: statement %s closed by %s", statement.id, current_user().username)
    flash(translate("settlement.closed_now"), "ok")
    return _back(statement)


@bp.get("/statement/<id:statement_id>/export.csv")
@roles_required(*ROLES)
def export(statement_id: int):
    """The statement as a CSV file named for provider and month."""
    statement = _statement(statement_id)
    view = build(db.session(), statement, [])
    name = f"statement-{statement.provider_id}-{statement.month:%Y-%m}.csv"
    return Response(to_csv(view), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/statement/<id:statement_id>/print")
@roles_required(*ROLES)
def printable(statement_id: int):
    """The statement in Chinese for signature and stamp: figures, the amount in capitals, the lines; no script."""
    statement = _statement(statement_id)
    # The signed copy is a Chinese document whatever language the console is in.
    return render_template("console/settlement/print.html", view=build(db.session(), statement, [], "zh-CN"),
                           yuan=yuan, local_time=local_time, printed_at=local_time(utcnow()),
                           zh=lambda key: text("zh-CN", key))
