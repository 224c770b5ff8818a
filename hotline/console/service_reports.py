"""The purchased-services report (admin and dispatcher), beside the other reports: subsidy spent per month and
category, the share of verified visits and the flags per provider, as charts, tables and a CSV."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from dispatch.texts import category_name
from hotline import db
from hotline.console.amounts import yuan
from hotline.console.auth import roles_required
from hotline.console.i18n import current_language, translate as t
from hotline.console.report_tables import Table, percent, to_csv
from hotline.reports import MAX_MONTHS, Period, parse_period
from hotline.reports.charts import bar_chart
from hotline.reports.services import FLAGS, ServiceFigures, service_figures
from models import utcnow

bp = Blueprint("service_reports", __name__, url_prefix="/console/reports/services")


def _period() -> tuple[Period, str | None]:
    settings = db.settings()
    today = utcnow().astimezone(settings.tz).date()
    period, error = parse_period(request.args.get("from"), request.args.get("to"), today, settings.tz)
    return period, t(f"reports.error.{error}", months=MAX_MONTHS) if error else None


def tables(fig: ServiceFigures) -> list[Table]:
    """The report's three tables with their charts."""
    names = [category_name(current_language(), c) for c in fig.categories]
    per_month = [[fig.subsidy[m].get(c, 0) for c in fig.categories] for m in fig.months]
    subsidy = Table(
        "subsidy", t("service_reports.subsidy.title"), [t("reports.month"), *names, t("reports.total")],
        [[m, *(yuan(v) for v in row), yuan(sum(row))] for m, row in zip(fig.months, per_month)],
        note=t("service_reports.subsidy.note"),
        chart=bar_chart("chart-subsidy", t("service_reports.subsidy.title"), fig.months,
                        [(name, [row[i] / 100 for row in per_month]) for i, name in enumerate(names)],
                        stacked=True, unit=t("service_reports.yuan"), whole=False))
    providers = [p.name for p in fig.providers]
    verified = Table(
        "verified", t("service_reports.verified.title"),
        [t("service_reports.provider"), t("service_reports.visits"), t("service_reports.verified.count"),
         t("service_reports.verified.share")],
        [[p.name, str(p.visits), str(p.verified), percent(p.verified_share)] for p in fig.providers],
        note=t("service_reports.verified.note"),
        chart=bar_chart("chart-verified", t("service_reports.verified.title"), providers,
                        [(t("service_reports.verified.count"), [p.verified for p in fig.providers]),
                         (t("service_reports.unproved"), [p.visits - p.verified for p in fig.providers])],
                        stacked=True))
    flag_names = [t(f"settlement.reason.{f}") for f in FLAGS]
    flags = Table(
        "flags", t("service_reports.flags.title"), [t("service_reports.provider"), *flag_names],
        [[p.name, *(str(p.flags[f]) for f in FLAGS)] for p in fig.providers],
        chart=bar_chart("chart-flags", t("service_reports.flags.title"), providers,
                        [(name, [p.flags[f] for p in fig.providers]) for name, f in zip(flag_names, FLAGS)]))
    return [subsidy, verified, flags]


@bp.get("/")
@roles_required("dispatcher")
def index():
    """The purchased-services figures of the range."""
    period, error = _period()
    return render_template("console/service_reports/index.html", period=period, error=error,
                           tables=tables(service_figures(db.session(), period)))


@bp.get("/export.csv")
@roles_required("dispatcher")
def export():
    """The same figures as a CSV named for the range (UTF-8 with a BOM, formula-safe)."""
    period, _error = _period()
    heading = [t("service_reports.title"), period.first.isoformat(), period.last.isoformat()]
    body = to_csv(heading, "", tables(service_figures(db.session(), period)))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="hotline-services-{period.label}.csv"',
                             "Cache-Control": "no-store"})
