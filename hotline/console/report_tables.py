"""The report's figures as titled tables and charts in the console's language; the page and the CSV share them."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from markupsafe import Markup

from dispatch.texts import category_name
from hotline.console.i18n import current_language, translate as t
from hotline.reports import OUTCOMES, ChildFigures, ElderlyFigures
from hotline.reports.charts import bar_chart, donut, number


@dataclass
class Table:
    """One figure: a title, a header row, rows of cells, an optional note and chart."""

    key: str
    title: str
    head: list[str]
    rows: list[list[str]]
    note: str = ""
    chart: Markup | None = field(default=None, repr=False)


def percent(share: float | None) -> str:
    """A share (0..1) as "83.3%", "—" when there is none."""
    return "—" if share is None else f"{100 * share:.1f}%"


def elderly_tables(fig: ElderlyFigures) -> list[Table]:
    """The elderly line's figures, each with its chart."""
    lang, minutes = current_language(), number(fig.sla_minutes)
    names = [category_name(lang, c) for c in fig.categories]
    totals = fig.category_totals
    per_month = Table(
        "categories", t("reports.categories.title"), [t("reports.month"), *names, t("reports.total")],
        [[m, *(str(fig.per_month[m][c]) for c in fig.categories), str(sum(fig.per_month[m].values()))]
         for m in fig.months]
        + [[t("reports.total"), *(str(totals[c]) for c in fig.categories), str(fig.orders)]],
        chart=bar_chart("chart-categories", t("reports.categories.title"), fig.months,
                        [(name, [fig.per_month[m][c] for m in fig.months]) for name, c in zip(names, fig.categories)],
                        stacked=True))
    within, late = t("reports.on_site.within", minutes=minutes), t("reports.on_site.not_within", minutes=minutes)
    on_site = Table(
        "on_site", t("reports.on_site.title", minutes=minutes), [t("reports.figure"), t("reports.value")],
        [[t("reports.on_site.counted"), str(fig.on_site_counted)], [within, str(fig.on_site_within)],
         [late, str(fig.on_site_counted - fig.on_site_within)],
         [t("reports.on_site.share"), percent(fig.on_site_share)]],
        note=t("reports.on_site.note", minutes=minutes),
        chart=donut("chart-on-site", t("reports.on_site.title", minutes=minutes),
                    [(within, fig.on_site_within), (late, fig.on_site_counted - fig.on_site_within)]))
    steps = [("accept", fig.accept), ("arrive", fig.arrive), ("complete", fig.complete)]
    step_names = [t(f"reports.durations.{name}") for name, _ in steps]
    durations = Table(
        "durations", t("reports.durations.title"),
        [t("reports.durations.step"), t("reports.durations.count"), t("reports.durations.median"),
         t("reports.durations.p90")],
        [[label, str(s.count), number(s.median), number(s.p90)] for label, (_, s) in zip(step_names, steps)],
        note=t("reports.durations.note"),
        chart=bar_chart("chart-durations", t("reports.durations.title"), step_names,
                        [(t("reports.durations.median"), [s.median for _, s in steps]),
                         (t("reports.durations.p90"), [s.p90 for _, s in steps])],
                        unit=t("reports.minutes"), whole=False))
    escalations = Table(
        "escalations", t("reports.escalations.title"), [t("reports.month"), t("reports.escalations.count")],
        [[m, str(fig.escalated_per_month[m])] for m in fig.months]
        + [[t("reports.total"), str(fig.escalated)],
           [t("reports.escalations.share"), percent(fig.escalated / fig.orders if fig.orders else None)]],
        note=t("reports.escalations.note"),
        chart=bar_chart("chart-escalations", t("reports.escalations.title"), fig.months,
                        [(t("reports.escalations.count"), [fig.escalated_per_month[m] for m in fig.months])]))
    rating_names = [t(f"reports.satisfaction.{r}") for r in fig.ratings]
    satisfaction = Table(
        "satisfaction", t("reports.satisfaction.title"), [t("reports.figure"), t("reports.value")],
        [[name, str(count)] for name, count in zip(rating_names, fig.ratings.values())]
        + [[t("reports.satisfaction.no_answer"), str(fig.no_answer)],
           [t("reports.satisfaction.share"), percent(fig.satisfied_share)]],
        note=t("reports.satisfaction.note"),
        chart=donut("chart-satisfaction", t("reports.satisfaction.title"),
                    list(zip(rating_names, fig.ratings.values()))))
    service = Table(
        "service", t("reports.service.title"), [t("reports.figure"), t("reports.value")],
        [[t("reports.service.orders"), str(fig.orders)], [t("reports.service.cancelled"), str(fig.cancelled)],
         [t("reports.service.completed"), str(fig.completed)],
         [t("reports.service.completed_all_time"), str(fig.completed_all_time)]])
    return [per_month, on_site, durations, escalations, satisfaction, service]


def child_table(fig: ChildFigures) -> Table:
    """The child line's figures and their chart."""
    names = [t(f"reports.child.{o}") for o in OUTCOMES]
    ack = fig.to_acknowledge
    return Table(
        "child", t("reports.child.title"), [t("reports.figure"), t("reports.value")],
        [[t("reports.child.calls"), str(fig.calls)]]
        + [[name, str(fig.outcomes[o])] for name, o in zip(names, OUTCOMES)]
        + [[t("reports.child.acknowledged"), str(fig.acknowledged)],
           [t("reports.child.unacknowledged"), str(fig.unacknowledged)],
           [t("reports.child.ack_median"), number(ack.median)], [t("reports.child.ack_p90"), number(ack.p90)]],
        note=t("reports.child.note"),
        chart=donut("chart-child", t("reports.child.title"), [(n, fig.outcomes[o]) for n, o in zip(names, OUTCOMES)]))


def csv_cell(text: str) -> str:
    """`text` as a CSV cell a spreadsheet will not run: a leading = + - @ gets an apostrophe before it."""
    # A spreadsheet runs a cell starting with = + - @ as a formula; none of our figures needs to.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


_cell = csv_cell


def to_csv(heading: list[str], summary: str, tables: list[Table]) -> bytes:
    """The tables as one CSV, a blank line between sections, in UTF-8 with a BOM so Excel reads Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(c) for c in heading])
    writer.writerow([_cell(summary)])
    for table in tables:
        writer.writerow([])
        writer.writerow([_cell(table.title)])
        writer.writerow([_cell(c) for c in table.head])
        writer.writerows([_cell(c) for c in row] for row in table.rows)
        if table.note:
            writer.writerow([_cell(table.note)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
