"""The child line's casework report (duty officers and admins): contacts, answering, follow-up, police reports,
tasks and deadlines over a date range, as charts and as a CSV of the same figures.

The figures are aggregates of case data (no names, numbers or case codes), yet they are about children's calls:
viewing writes one access-log row (action "report"), exporting one ("export-report"), with no case id.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.case_report_tables import casework_tables
from hotline.console.clock import local_time
from hotline.console.i18n import translate
from hotline.console.report_tables import Table, to_csv
from hotline.reports import MAX_MONTHS, Period, casework_figures, parse_period
from models import log_access, utcnow

bp = Blueprint("case_reports", __name__, url_prefix="/console/reports/child")


def _period() -> tuple[Period, str | None]:
    """The range asked for in ?from=&to= (local days), or the last 12 months with a message saying why."""
    settings = db.settings()
    today = utcnow().astimezone(settings.tz).date()
    period, error = parse_period(request.args.get("from"), request.args.get("to"), today, settings.tz)
    return period, translate(f"reports.error.{error}", months=MAX_MONTHS) if error else None


def _figures(period: Period, action: str) -> tuple[str, list[Table]]:
    """The summary line and the tables; the use is access-logged (committed before the figures go out)."""
    session = db.session()
    now = utcnow()
    figures = casework_figures(session, period, now)
    log_access(session, current_user().username, [None], request.path, action, request.remote_addr or "")
    session.commit()
    summary = translate("case_reports.summary", first=period.first.isoformat(), last=period.last.isoformat(),
                        calls=figures.calls, counted=sum(figures.counted_per_month.values()),
                        now=local_time(now))
    return summary, casework_tables(figures)


@bp.get("/")
@roles_required("duty_officer")
def index():
    """The casework figures of the range as charts and tables."""
    period, error = _period()
    summary, tables = _figures(period, "report")
    return render_template("console/case_reports/index.html", period=period, error=error, summary=summary,
                           tables=tables)


@bp.get("/export.csv")
@roles_required("duty_officer")
def export():
    """The same figures as a CSV file named for its range (UTF-8 with a BOM, no cell read as a formula)."""
    period, _error = _period()
    summary, tables = _figures(period, "export-report")
    heading = [translate("case_reports.title"), period.first.isoformat(), period.last.isoformat()]
    return Response(to_csv(heading, summary, tables), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="hotline-casework-report-{period.label}.csv"',
                             "Cache-Control": "no-store"})
