"""The orders board: the live list with its filters, one order's timeline, and staff actions on orders."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch import manual
from dispatch.geo import distance_km
from dispatch.jobs import enqueue_offer, schedule
from dispatch.matching import BUSY_STATUSES
from dispatch.texts import category_name
from dispatch.visits import visit_of
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import current_language, translate
from hotline.console.payments import panel, template_helpers
from hotline.console.timeline import timeline
from hotline.params import parse_id
from models import CATEGORY_CODES, ORDER_CLOSED, ORDER_OPEN, ORDER_REASSIGNABLE, Order, Resident, Technician, utcnow

bp = Blueprint("board", __name__, url_prefix="/console/orders")
ROW_LIMIT = 200
STATUSES = ORDER_OPEN + ORDER_CLOSED
REFRESH_MS = 3000
MAX_COMMUNITY = 100


@dataclass(frozen=True)
class Filters:
    """The board's filters from query arguments; an unknown value means no filter.

    The status filter starts on the open orders (what a dispatcher works on); "all" lifts it.
    """

    status: str = "open"
    category: str = ""
    community: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read and check the filters of a request."""
        status, category = args.get("status") or "open", args.get("category", "")
        return cls(status=status if status in STATUSES or status in ("open", "all") else "open",
                   category=category if category in CATEGORY_CODES else "",
                   community=args.get("community", "").strip()[:MAX_COMMUNITY])


def _settings():
    return db.settings()


def board_orders(session, filters: Filters) -> tuple[list[Order], bool]:
    """The newest orders that pass the filters (at most ROW_LIMIT) and whether more were left out."""
    query = select(Order).options(selectinload(Order.resident).selectinload(Resident.phones),
                                  selectinload(Order.technician))
    if filters.status == "open":
        query = query.where(Order.status.in_(ORDER_OPEN))
    elif filters.status != "all":
        query = query.where(Order.status == filters.status)
    if filters.category:
        query = query.where(Order.category == filters.category)
    if filters.community:
        query = query.join(Resident, Order.resident_id == Resident.id).where(Resident.community == filters.community)
    rows = list(session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(ROW_LIMIT + 1)))
    return rows[:ROW_LIMIT], len(rows) > ROW_LIMIT


def communities(session) -> list[str]:
    """Every community a resident lives in, for the filter."""
    return sorted(c for c in session.scalars(select(Resident.community).distinct()) if c)


def _view_helpers() -> dict:
    """Formatting the templates share: local times, minutes waiting, category names."""
    tz, now, lang = _settings().tz, utcnow(), current_language()

    def when(at, fmt="%m-%d %H:%M"):
        return at.astimezone(tz).strftime(fmt) if at else "-"

    def waiting(order: Order):
        # Only an open order is waiting; a closed one's time is in its timeline.
        return int((now - order.created_at).total_seconds() // 60) if order.status in ORDER_OPEN else None

    return {"when": when, "waiting": waiting, "category": lambda code: category_name(lang, code),
            "statuses": STATUSES, "categories": CATEGORY_CODES, "row_limit": ROW_LIMIT}


def _rows_context(filters: Filters) -> dict:
    orders, capped = board_orders(db.session(), filters)
    return {"orders": orders, "capped": capped, "filters": filters, **_view_helpers()}


@bp.get("/")
@roles_required("dispatcher")
def index():
    """The board: new-order form, filters and the live table of orders, newest first."""
    filters = Filters.from_args(request.args)
    return render_template("console/board/index.html", communities=communities(db.session()),
                           refresh_ms=REFRESH_MS, **_rows_context(filters))


@bp.get("/rows")
@roles_required("dispatcher")
def rows():
    """The table body alone, with the same filters: what the board re-fetches every few seconds."""
    return render_template("console/board/_rows.html", **_rows_context(Filters.from_args(request.args)))


def _order_or_404(order_id: int) -> Order:
    order = db.session().get(Order, order_id)
    if order is None:
        abort(404)
    return order


@dataclass(frozen=True)
class Choice:
    """A technician staff may assign: skilled or not, busy or not, how far from the resident."""

    technician: Technician
    skilled: bool
    busy: bool
    distance_km: float | None


def technician_choices(session, order: Order) -> list[Choice]:
    """Active technicians other than the assigned one: skilled first, then free, then nearest."""
    busy = set(session.scalars(select(Order.technician_id).where(Order.status.in_(BUSY_STATUSES),
                                                                 Order.technician_id.is_not(None))))
    resident = order.resident
    here = (resident.lat, resident.lng) if resident and resident.lat is not None and resident.lng is not None else None
    found = []
    for tech in session.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.name)):
        if tech.id == order.technician_id:
            continue
        distance = (distance_km(here[0], here[1], tech.lat, tech.lng)
                    if here and tech.lat is not None and tech.lng is not None else None)
        found.append(Choice(tech, tech.has_skill(order.category), tech.id in busy, distance))
    found.sort(key=lambda c: (not c.skilled, c.busy, c.distance_km is None, c.distance_km or 0.0))
    return found


@bp.get("/<id:order_id>")
@roles_required("dispatcher")
def detail(order_id: int):
    """One order: its details, its timeline and the actions its state allows."""
    session = db.session()
    order = _order_or_404(order_id)
    return render_template("console/board/detail.html", order=order, entries=timeline(session, order),
                           visit=visit_of(session, order.id),
                           choices=technician_choices(session, order), reassignable=ORDER_REASSIGNABLE,
                           open_statuses=ORDER_OPEN, payment=panel(session, order), **template_helpers(),
                           **_view_helpers())


def _actor() -> str:
    return current_user().username


def _refusal(refused: manual.Refused) -> str:
    values = dict(refused.values)
    if "status" in values:
        values["status"] = translate(f"board.status.{values['status']}")
    return translate(f"board.refused.{refused.reason}", **values)


@bp.post("/new")
@roles_required("dispatcher")
def create():
    """An order for the caller an operator is talking to; committed, then offered like a call's order."""
    session = db.session()
    form = request.form
    try:
        order = manual.create_order(session, form.get("phone", ""), form.get("category", ""),
                                    form.get("detail", ""), _actor(), utcnow())
    except manual.Refused as refused:
        session.rollback()
        flash(_refusal(refused), "error")
        return redirect(url_for(".index"))
    session.commit()
    enqueue_offer(db.queue(), order.id)
    key = "board.done.created_unregistered" if order.unregistered else "board.done.created"
    flash(translate(key, code=order.code), "ok")
    return redirect(url_for(".index"))


def _act(order_id: int, action, done_key: str, *args):
    """Run one staff action on an order: refused -> a message and no change; else commit, then schedule."""
    order = _order_or_404(order_id)
    session = db.session()
    try:
        follow = action(session, order.id, *args, _actor(), _settings(), utcnow())
    except manual.Refused as refused:
        session.rollback()
        flash(_refusal(refused), "error")
        return redirect(url_for(".detail", order_id=order_id))
    session.commit()
    schedule(db.queue(), follow)
    flash(translate(done_key, code=order.code), "ok")
    return redirect(url_for(".detail", order_id=order_id))


@bp.post("/<id:order_id>/reassign")
@roles_required("dispatcher")
def reassign(order_id: int):
    """Give the order to the technician staff chose (they phoned them)."""
    return _act(order_id, manual.reassign, "board.done.reassigned", parse_id(request.form.get("technician")))


@bp.post("/<id:order_id>/cancel")
@roles_required("dispatcher")
def cancel(order_id: int):
    """Cancel the order with a reason."""
    return _act(order_id, manual.cancel, "board.done.cancelled", request.form.get("reason", ""))


@bp.post("/<id:order_id>/follow-up")
@roles_required("dispatcher")
def follow_up(order_id: int):
    """Record that staff followed up an order flagged for it, with a note."""
    return _act(order_id, manual.record_follow_up, "board.done.followed_up", request.form.get("note", ""))
