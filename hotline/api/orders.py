"""The JSON API: orders for the bureau's other systems, behind a bearer token."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline import db
from hotline.params import BadParameter, int_arg, json_bad_parameter
from hotline.security import api_token_required
from models import ORDER_CLOSED, Order

bp = Blueprint("api", __name__, url_prefix="/api")
bp.register_error_handler(BadParameter, json_bad_parameter)


def _iso(value):
    return value.isoformat() if value else None


def order_json(order: Order) -> dict:
    """The public shape of an order."""
    resident = order.resident
    tech = order.technician
    return {
        "code": order.code,
        "status": order.status,
        "category": order.category,
        "unregistered": order.unregistered,
        "resident": {"name": resident.name if resident else None, "phone": order.callback_phone},
        "technician": {"name": tech.name, "phone": tech.phone} if tech else None,
        "created_at": _iso(order.created_at),
        "offered_at": _iso(order.offered_at),
        "accepted_at": _iso(order.accepted_at),
        "arrived_at": _iso(order.arrived_at),
        "completed_at": _iso(order.completed_at),
        "escalated_at": _iso(order.escalated_at),
        "sla_breached": order.sla_breached,
        "promise_kept": order.promise_kept,
    }


def _orders():
    return select(Order).options(selectinload(Order.resident), selectinload(Order.technician))


@bp.get("/orders")
@api_token_required
def list_orders():
    """All orders, newest first (`?status=` filters, `?limit=` caps, default 500)."""
    query = _orders().order_by(Order.created_at.desc(), Order.id.desc())
    if status := request.args.get("status"):
        query = query.where(Order.status == status)
    query = query.limit(int_arg("limit", 500, 1, 5000))
    return {"orders": [order_json(o) for o in db.session().scalars(query)]}


@bp.get("/orders/<code>")
@api_token_required
def get_order(code: str):
    """One order by code: the open one if any, else the newest that had it."""
    session = db.session()
    orders = list(session.scalars(_orders().where(Order.code == code).order_by(Order.created_at.desc())))
    if not orders:
        return {"error": "not found"}, 404
    open_first = sorted(orders, key=lambda o: o.status in ORDER_CLOSED)
    return order_json(open_first[0])
