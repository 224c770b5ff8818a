"""A statement as the console shows, prints and exports it: counted lines by category and price, lines apart,
adjustments; every amount in fen, shown as yuan."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from dispatch.texts import category_name
from hotline.console.amounts import capital, yuan
from hotline.console.clock import local_time
from hotline.console.i18n import LANGUAGES, catalogue, current_language
from hotline.console.report_tables import csv_cell
from models import Order, ServiceProvider, Statement, StatementLine


@dataclass
class Group:
    """Counted visits of one category at one price: count × price, paid, subsidy claimed."""

    category: str
    name: str
    price_fen: int
    count: int = 0
    total_fen: int = 0
    paid_fen: int = 0
    subsidy_fen: int = 0


@dataclass
class Row:
    """One line as shown: its order, day, technician, figures and reason."""

    line: StatementLine
    code: str
    day: str
    technician: str
    category: str
    reason: str


@dataclass
class View:
    """Everything a statement page needs."""

    statement: Statement
    provider: ServiceProvider
    groups: list[Group] = field(default_factory=list)
    counted: list[Row] = field(default_factory=list)
    apart: list[Row] = field(default_factory=list)
    adjustments: list[Row] = field(default_factory=list)
    late: list[Row] = field(default_factory=list)

    @property
    def capital(self) -> str:
        """The subsidy claimed in Chinese capitals."""
        return capital(self.statement.subsidy_fen)


def text(lang: str, key: str) -> str:
    """A console text in `lang` (Chinese when missing), whatever the request's language."""
    return catalogue(lang).get(key) or catalogue(LANGUAGES[0]).get(key) or key


def t(key: str) -> str:
    """A console text in the request's language."""
    return text(current_language(), key)


def _row(session, line: StatementLine, lang: str) -> Row:
    order = session.get(Order, line.order_id) if line.order_id else None
    reason_key = ("settlement.adjust." if line.kind == "adjustment" else "settlement.reason.") + line.reason
    return Row(line, order.code if order else "", local_time(order.completed_at, "%Y-%m-%d") if order else "",
               order.technician.name if order and order.technician else "",
               category_name(lang, line.category) if line.category else "",
               text(lang, reason_key) if line.reason else "")


def build(session, statement: Statement, late: list[StatementLine], lang: str | None = None) -> View:
    """The view of a statement (and, for an open one, the lines of closed months still apart), its names in
    `lang` (the request's language by default)."""
    lang = lang or current_language()
    view = View(statement, session.get(ServiceProvider, statement.provider_id))
    groups: dict[tuple[str, int], Group] = {}
    for line in statement.lines:
        row = _row(session, line, lang)
        if line.kind == "adjustment":
            view.adjustments.append(row)
        elif not line.counted:
            view.apart.append(row)
        else:
            view.counted.append(row)
            group = groups.setdefault((line.category, line.price_fen),
                                      Group(line.category, row.category, line.price_fen))
            group.count += 1
            group.total_fen += line.price_fen
            group.paid_fen += line.paid_fen
            group.subsidy_fen += line.subsidy_fen
    view.groups = sorted(groups.values(), key=lambda g: (g.category, g.price_fen))
    view.late = [_row(session, line, lang) for line in late]
    return view


def to_csv(view: View) -> bytes:
    """The statement as CSV: UTF-8 with a BOM (Excel reads Chinese), no cell a spreadsheet would run."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")

    def row(*cells) -> None:
        out.writerow([csv_cell(str(c)) for c in cells])

    s = view.statement
    row(t("settlement.title"), view.provider.name, f"{s.month:%Y-%m}", t(f"settlement.status.{s.status}"))
    row(t("settlement.total.visits"), s.visits)
    row(t("settlement.total.price"), yuan(s.price_fen))
    row(t("settlement.total.paid"), yuan(s.paid_fen))
    row(t("settlement.total.subsidy"), yuan(s.subsidy_fen), view.capital)
    out.writerow([])
    row(t("settlement.groups"))
    row(t("settlement.col.category"), t("settlement.col.count"), t("settlement.col.unit_price"),
        t("settlement.col.price"), t("settlement.col.paid"), t("settlement.col.subsidy"))
    for g in view.groups:
        row(g.name, g.count, yuan(g.price_fen), yuan(g.total_fen), yuan(g.paid_fen), yuan(g.subsidy_fen))
    head = (t("settlement.col.kind"), t("settlement.col.code"), t("settlement.col.day"),
            t("settlement.col.technician"), t("settlement.col.category"), t("settlement.col.price"),
            t("settlement.col.paid"), t("settlement.col.subsidy"), t("settlement.col.reason"))
    for title, rows in (("settlement.counted", view.counted), ("settlement.apart", view.apart),
                        ("settlement.adjustments", view.adjustments)):
        out.writerow([])
        row(t(title))
        row(*head)
        for r in rows:
            row(t(f"settlement.kind.{r.line.kind}"), r.code, r.day, r.technician, r.category,
                yuan(r.line.price_fen), yuan(r.line.paid_fen), yuan(r.line.subsidy_fen), r.reason)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
