"""The casework report's figures as titled tables and charts in the console's language; page and CSV share them.

Aggregates only: no case code, name or number appears in any cell.
"""
from __future__ import annotations

from dispatch.taxonomy import codes, counted, label
from hotline.console.i18n import current_language, translate as t
from hotline.console.report_tables import Table, percent
from hotline.reports.casework import ANSWER_SECONDS, TASK_BUCKETS, UNRECORDED, CaseworkFigures, PerMonth
from hotline.reports.charts import bar_chart, donut, number


def _per_month(key: str, per_month: PerMonth, names: list[str], extra: tuple[str, dict[str, int]]) -> Table:
    """A month x code table with a total row, an extra column (`extra`: its name and count per month) and a
    stacked bar chart of the codes that occur."""
    extra_name, extra_counts = extra
    rows = [[m, *(str(per_month.counts[m][c]) for c in per_month.codes), str(extra_counts[m])]
            for m in per_month.months]
    rows.append([t("reports.total"), *(str(per_month.total(c)) for c in per_month.codes),
                 str(sum(extra_counts.values()))])
    # Codes no case has in the range would crowd the legend with empty entries: only those that occur.
    shown = [(name, code) for name, code in zip(names, per_month.codes) if per_month.total(code)]
    title = t(f"case_reports.{key}.title")
    chart = bar_chart(f"chart-{key}", title, per_month.months,
                      [(name, [per_month.counts[m][code] for m in per_month.months]) for name, code in shown],
                      stacked=True)
    return Table(key, title, [t("reports.month"), *names, extra_name], rows, chart=chart)


def contact_type_table(fig: CaseworkFigures) -> Table:
    """Contacts per month by contact type, with the counted contacts."""
    lang = current_language()
    names = [label("contact_types", c, lang) if c != UNRECORDED else t("case_reports.contact_types.unrecorded")
             for c in fig.contact_types.codes]
    table = _per_month("contact_types", fig.contact_types, names,
                       (t("case_reports.contact_types.counted"), fig.counted_per_month))
    counted_names = "、".join(label("contact_types", c, lang) for c in codes("contact_types") if counted(c))
    if lang != "zh-CN":
        counted_names = counted_names.replace("、", ", ")
    table.note = t("case_reports.contact_types.note", counted=counted_names)
    return table


def category_table(fig: CaseworkFigures) -> Table:
    """Contacts per month by top-level category, with the cases that have a category."""
    lang = current_language()
    names = [label("categories", c, lang) for c in fig.categories.codes]
    table = _per_month("categories", fig.categories, names,
                       (t("case_reports.categories.with_category"), fig.categorised_per_month))
    table.note = t("case_reports.categories.note")
    return table


def answer_table(fig: CaseworkFigures) -> Table:
    """Calls answered within 20 and 60 seconds, abandoned before an answer, voicemail: counts and shares."""
    within = fig.answered_within
    counts = [("calls", fig.calls), ("answered", fig.answered)]
    counts += [(f"within_{s}", within[s]) for s in ANSWER_SECONDS]
    counts += [("missed", fig.missed), ("voicemail", fig.voicemail)]
    rows = [[_answer_name(key), str(n), percent(fig.share(n))] for key, n in counts]
    quick, slow = ANSWER_SECONDS
    other = fig.calls - fig.answered - fig.missed - fig.voicemail
    parts = [(t("case_reports.answer.within", seconds=quick), within[quick]),
             (t("case_reports.answer.within_60_only"), within[slow] - within[quick]),
             (t("case_reports.answer.later"), fig.answered - within[slow]),
             (t("case_reports.answer.missed"), fig.missed), (t("case_reports.answer.voicemail"), fig.voicemail),
             (t("case_reports.answer.other"), other)]
    return Table("answer", t("case_reports.answer.title"),
                 [t("reports.figure"), t("case_reports.count"), t("case_reports.share")], rows,
                 note=t("case_reports.answer.note"),
                 chart=donut("chart-answer", t("case_reports.answer.title"), parts))


def _answer_name(key: str) -> str:
    if key.startswith("within_"):
        return t("case_reports.answer.within", seconds=key.removeprefix("within_"))
    return t(f"case_reports.answer.{key}")


def follow_up_table(fig: CaseworkFigures) -> Table:
    """Messages and missed calls: called back or not, acknowledged or not."""
    names = ("unanswered", "called_back", "not_called_back", "acknowledged", "unacknowledged")
    values = (fig.missed + fig.voicemail, fig.called_back, fig.not_called_back, fig.acknowledged,
              fig.unacknowledged)
    return Table("follow_up", t("case_reports.follow_up.title"), [t("reports.figure"), t("reports.value")],
                 [[t(f"case_reports.follow_up.{n}"), str(v)] for n, v in zip(names, values)],
                 note=t("case_reports.follow_up.note"),
                 chart=donut("chart-follow-up", t("case_reports.follow_up.title"),
                             [(t("case_reports.follow_up.called_back"), fig.called_back),
                              (t("case_reports.follow_up.not_called_back"), fig.not_called_back)]))


def duration_table(fig: CaseworkFigures) -> Table:
    """Minutes to call-back, to acknowledgement and from intake to the police report: count, median, p90."""
    steps = [("call_back", fig.to_call_back), ("acknowledge", fig.to_acknowledge), ("report", fig.to_report)]
    names = [t(f"case_reports.durations.{key}") for key, _ in steps]
    median, p90 = t("case_reports.durations.median"), t("case_reports.durations.p90")
    return Table("durations", t("case_reports.durations.title"),
                 [t("case_reports.durations.step"), t("case_reports.cases"), median, p90],
                 [[name, str(s.count), number(s.median), number(s.p90)] for name, (_, s) in zip(names, steps)],
                 note=t("case_reports.durations.note"),
                 chart=bar_chart("chart-durations", t("case_reports.durations.title"), names,
                                 [(median, [s.median for _, s in steps]), (p90, [s.p90 for _, s in steps])],
                                 unit=t("case_reports.minutes"), whole=False))


def police_table(fig: CaseworkFigures) -> Table:
    """Mandatory reports: required, made, pending, and the time from intake to report."""
    rows = [[t("case_reports.police.required"), str(fig.police_required)],
            [t("case_reports.police.reported"), str(fig.police_reported)],
            [t("case_reports.police.pending"), str(fig.police_pending)],
            [t("case_reports.police.median"), number(fig.to_report.median)],
            [t("case_reports.police.p90"), number(fig.to_report.p90)]]
    return Table("police", t("case_reports.police.title"), [t("reports.figure"), t("reports.value")], rows,
                 note=t("case_reports.police.note"),
                 chart=donut("chart-police", t("case_reports.police.title"),
                             [(t("case_reports.police.reported"), fig.police_reported),
                              (t("case_reports.police.pending"), fig.police_pending)]))


def task_table(fig: CaseworkFigures) -> Table:
    """Tasks done on time, late, open and overdue, open not yet due, cancelled."""
    parts = [(t(f"case_reports.tasks.{b}"), fig.tasks[b]) for b in TASK_BUCKETS]
    return Table("tasks", t("case_reports.tasks.title"), [t("reports.figure"), t("reports.value")],
                 [[name, str(n)] for name, n in parts] + [[t("reports.total"), str(sum(fig.tasks.values()))]],
                 note=t("case_reports.tasks.note"),
                 chart=donut("chart-tasks", t("case_reports.tasks.title"), parts))


def deadline_table(fig: CaseworkFigures) -> Table:
    """Cases with a deadline: closed, open past it, open within it."""
    parts = [(t("case_reports.deadlines.open_past"), fig.open_past_deadline),
             (t("case_reports.deadlines.open_within"), fig.open_within_deadline),
             (t("case_reports.deadlines.closed"), fig.closed_with_deadline)]
    return Table("deadlines", t("case_reports.deadlines.title"), [t("reports.figure"), t("reports.value")],
                 [[t("case_reports.deadlines.with_deadline"), str(fig.with_deadline)]]
                 + [[name, str(n)] for name, n in parts],
                 note=t("case_reports.deadlines.note"),
                 chart=donut("chart-deadlines", t("case_reports.deadlines.title"), parts))


def casework_tables(fig: CaseworkFigures) -> list[Table]:
    """Every table of the casework report, in the page's order."""
    return [contact_type_table(fig), category_table(fig), answer_table(fig), follow_up_table(fig),
            duration_table(fig), police_table(fig), task_table(fig), deadline_table(fig)]
