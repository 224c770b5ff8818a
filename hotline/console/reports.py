"""The reports page: the elderly line's figures (and the child line's, for duty officers) over a date range,
drawn as charts, with the same figures as a CSV download."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from hotline import db
from hotline.console.auth import can, roles_required
from hotline.console.i18n import translate
from hotline.console.report_tables import Table, child_table, elderly_tables, to_csv
from hotline.reports import MAX_MONTHS, Period, child_figures, elderly_figures, parse_period
from models import utcnow

bp = Blueprint("reports", __name__, url_prefix="/console/reports")


def _period() -> tuple[Period, str | None]:
    """The range asked for in ?from=&to= (local days), or the last 12 months with a message saying why."""
    settings = db.settings()
    today = utcnow().astimezone(settings.tz).date()
    period, error = parse_period(request.args.get("from"), request.args.get("to"), today, settings.tz)
    return period, translate(f"reports.error.{error}", months=MAX_MONTHS) if error else None


def _figures(period: Period) -> tuple[str, list[Table]]:
    """The summary line and the figure tables this user may see (the child line: duty officers only)."""
    session = db.session()
    elderly = elderly_figures(session, period, db.settings().sla_arrival_minutes)
    tables = elderly_tables(elderly)
    # Child-line figures are about children's calls: shown only to those who handle them.
    if can("duty_officer"):
        tables.append(child_table(child_figures(session, period)))
    summary = translate("reports.summary", first=period.first.isoformat(), last=period.last.isoformat(),
                        n=elderly.completed, total=elderly.completed_all_time)
    return summary, tables


@bp.get("/")
@roles_required("dispatcher", "duty_officer")
def index():
    """The figures of the range as charts and tables."""
    period, error = _period()
    summary, tables = _figures(period)
    return render_template("console/reports/index.html", period=period, error=error, summary=summary,
                           tables=tables)


@bp.get("/export.csv")
@roles_required("dispatcher", "duty_officer")
def export():
    """The same figures as a CSV file named for its range."""
    period, _error = _period()
    summary, tables = _figures(period)
    heading = [translate("reports.title"), period.first.isoformat(), period.last.isoformat()]
    return Response(to_csv(heading, summary, tables), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="hotline-report-{period.label}.csv"',
                             "Cache-Control": "no-store"})
