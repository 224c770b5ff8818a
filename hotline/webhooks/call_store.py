"""The elderly line's hot path in the database: one statement, one round trip, per webhook of a plain call.

A call that walks greeting -> menu -> confirm costs three statements: the call's log row (with the caller
looked up in the same statement), the keys pressed so far, and the order (with its first event and the
call's outcome). On PostgreSQL each runs on its own in autocommit on the webhook engine, so it is its own
transaction and needs no BEGIN, COMMIT or ping round trips; the order, its event and the call row are
one statement (data-modifying CTEs), so they commit together or not at all. SQLite has no such CTEs:
there the same three writes run one after another in one transaction.

Every statement is idempotent, which is what lets these webhooks go without a receipt row: the log row is
INSERT ... ON CONFLICT DO NOTHING on the CallSid, the path is written whole (it travels in the signed URL,
never appended), and the order is unique per CallSid, so a retried or duplicated webhook finds the same
order and reads back the same code.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, insert, literal, literal_column, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from dispatch.event_details import detail as event_detail
from models import ORDER_TRANSITIONS, CallLog, Order, OrderEvent, OrderStatus, Resident, ResidentPhone
from models.codes import draw_code

CALLS, ORDERS, EVENTS = CallLog.__table__, Order.__table__, OrderEvent.__table__
RESIDENTS, PHONES = Resident.__table__, ResidentPhone.__table__
PATH_LENGTH = CALLS.c.path.type.length  # the keys kept: the latest ones
PATH_KEYS = frozenset("0123456789*#_?")  # a key, "_" for silence, "?" for an invalid key
CODE_DRAWS = 20
# The order's first status and event, as set_status() would write them: the lifecycle's rule, not a copy.
CREATED = ORDER_TRANSITIONS[OrderStatus.PENDING]


class OrderRef(NamedTuple):
    """What the call needs of its order; `new` is False when a retried webhook found it already there."""

    id: int
    code: str
    category: str
    unregistered: bool
    new: bool

    @property
    def is_emergency(self) -> bool:
        """As Order.is_emergency."""
        return self.category == "emergency"


def clean_path(raw: str | None) -> str:
    """The keys-so-far from a callback URL: only key characters, the latest PATH_LENGTH of them."""
    return "".join(ch for ch in (raw or "") if ch in PATH_KEYS)[-PATH_LENGTH:]


def _typed(name: str, column):
    return bindparam(name, type_=column.type)


def _insert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@lru_cache(maxsize=None)
def _statements(dialect: str) -> dict:
    """Every statement of the hot path, built once per dialect (only the values differ between calls)."""
    owner = (select(RESIDENTS.c.id).join(PHONES, PHONES.c.resident_id == RESIDENTS.c.id)
             .where(PHONES.c.phone == _typed("b_caller", PHONES.c.phone), RESIDENTS.c.active.is_(True))
             .limit(1).scalar_subquery())
    # RETURNING may read the inserted row through a subquery; SQLAlchemy would not correlate it, so it is spelt out.
    owner_name = literal_column("(SELECT residents.name FROM residents WHERE residents.id = call_logs.resident_id)")
    open_call = (_insert(dialect)(CALLS).from_select(
        ["call_sid", "from_phone", "to_phone", "line", "resident_id", "status", "outcome", "path", "started_at"],
        select(_typed("b_sid", CALLS.c.call_sid), _typed("b_from", CALLS.c.from_phone),
               _typed("b_to", CALLS.c.to_phone), literal("elderly"), owner, _typed("b_status", CALLS.c.status),
               literal("in-progress"), literal(""), _typed("b_now", CALLS.c.started_at)).where(true()))
        .on_conflict_do_nothing(index_elements=["call_sid"])
        .returning(owner_name))
    caller_of = (select(owner_name).select_from(CALLS)
                 .where(CALLS.c.call_sid == _typed("b_sid", CALLS.c.call_sid)))
    set_path = (update(CALLS).where(CALLS.c.call_sid == _typed("b_sid", CALLS.c.call_sid))
                .values(path=_typed("b_path", CALLS.c.path)))
    existing = (select(ORDERS.c.id, ORDERS.c.code, ORDERS.c.category, ORDERS.c.unregistered)
                .where(ORDERS.c.call_sid == _typed("b_sid", ORDERS.c.call_sid)))
    has_call = select(CALLS.c.id).where(CALLS.c.call_sid == _typed("b_sid", CALLS.c.call_sid))
    return {"open_call": open_call, "caller_of": caller_of, "set_path": set_path, "existing": existing,
            "has_call": has_call, "order": _order_statement(dialect)}


def _defaults(table, given: list[str]) -> dict:
    """The client-side scalar defaults of the columns not given, as an ORM insert fills them in (an INSERT in a
    CTE gets none from SQLAlchemy: `include_defaults` only works at the top level)."""
    return {c.name: literal(c.default.arg, type_=c.type) for c in table.c
            if c.name not in given and c.default is not None and c.default.is_scalar}


def _order_insert(dialect: str, call):
    """INSERT the order from the call's row (`call`: the call_logs table or a CTE over it); nothing on a taken
    CallSid or open code."""
    given = {"code": _typed("b_code", ORDERS.c.code), "category": _typed("b_category", ORDERS.c.category),
             "resident_id": call.c.resident_id, "caller_phone": _typed("b_caller", ORDERS.c.caller_phone),
             "unregistered": call.c.resident_id.is_(None), "call_sid": _typed("b_sid", ORDERS.c.call_sid),
             "created_at": _typed("b_now", ORDERS.c.created_at)}
    given["status"] = literal(CREATED.to.value, type_=ORDERS.c.status.type)
    given.update(_defaults(ORDERS, list(given)))
    values = select(*given.values())
    if dialect != "postgresql":
        values = values.where(call.c.call_sid == bindparam("b_sid"))
    return (_insert(dialect)(ORDERS).from_select(list(given), values).on_conflict_do_nothing()
            .returning(ORDERS.c.id, ORDERS.c.code, ORDERS.c.category, ORDERS.c.unregistered, ORDERS.c.call_sid))


def _order_statement(dialect: str):
    """PostgreSQL: the order, its first event and the call's outcome in one statement; SQLite: the order alone."""
    if dialect != "postgresql":
        return _order_insert(dialect, CALLS)
    call = select(CALLS.c.resident_id).where(CALLS.c.call_sid == bindparam("b_sid")).cte("call")
    order = _order_insert(dialect, call).cte("new_order")
    first_event = select(order.c.id, bindparam("b_now", type_=EVENTS.c.at.type), literal(CREATED.event),
                         _typed("b_detail", EVENTS.c.detail), literal("caller"))
    event = insert(EVENTS).from_select(["order_id", "at", "kind", "detail", "actor"], first_event).cte("event")
    outcome = (update(CALLS).where(CALLS.c.call_sid == order.c.call_sid)
               .values(path=_typed("b_path", CALLS.c.path), order_id=order.c.id, outcome="order").cte("outcome"))
    return select(order.c.id, order.c.code, order.c.category, order.c.unregistered).add_cte(event, outcome)


@lru_cache(maxsize=16)
def _driver_sql(dialect, name: str) -> tuple[str, dict]:
    """A PostgreSQL statement compiled once for the driver: its SQL and the values of its fixed literals."""
    compiled = _statements(dialect.name)[name].compile(dialect=dialect)
    return compiled.string, {key: bind.effective_value for key, bind in compiled.binds.items() if not bind.required}


def _run(conn, name: str, values: dict):
    """Execute one hot statement; its rows as plain tuples (`first()`, `rowcount`).

    On PostgreSQL the SQL compiled once goes straight to psycopg, prepared on first use on each connection: the
    hot path pays neither SQLAlchemy's per-execution work nor its result objects (~40 µs a statement, measured).
    Values need no conversion (strings, and `now` always an aware UTC datetime). A driver error is raised as
    SQLAlchemy raises it, the connection invalidated when it is gone, so the retry in `db.hot` and the outage
    fallback see what they always see. SQLite runs the Core statement."""
    if conn.dialect.name != "postgresql":
        return _Rows(conn.execute(_statements(conn.dialect.name)[name], values))
    sql, fixed = _driver_sql(conn.dialect, name)
    pooled = conn.connection
    try:
        return _Rows(pooled.driver_connection.execute(sql, {**fixed, **values}, prepare=True))
    except conn.dialect.loaded_dbapi.Error as exc:
        gone = conn.dialect.is_disconnect(exc, pooled.dbapi_connection, None)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, values, exc, conn.dialect.loaded_dbapi.Error, connection_invalidated=gone,
                                  dialect=conn.dialect) from exc


class _Rows:
    """What the hot path reads of a result, the same from psycopg's cursor and SQLAlchemy's."""

    def __init__(self, result):
        self._result = result

    @property
    def rowcount(self) -> int:
        """Rows the statement wrote."""
        return self._result.rowcount

    def first(self) -> tuple | None:
        """The first row as a tuple, or None."""
        row = self._result.fetchone()
        return tuple(row) if row is not None else None


def open_call(conn, sid: str, caller: str, to: str, status: str, now) -> str | None:
    """Log the call on the elderly line (once per CallSid), in one statement; the registered caller's name."""
    row = _run(conn, "open_call", {"b_sid": sid, "b_from": caller, "b_to": to, "b_status": status, "b_now": now,
                                   "b_caller": caller}).first()
    if row is None:  # a retried greeting: the row is there already
        row = _run(conn, "caller_of", {"b_sid": sid}).first()
    return row[0] if row is not None else None


def set_path(conn, sid: str, path: str) -> bool:
    """Write the call's keys so far; False when the call has no log row (its greeting never reached us)."""
    return _run(conn, "set_path", {"b_sid": sid, "b_path": path}).rowcount > 0


def commit_order(conn, sid: str, category: str, path: str, caller_phone: str | None, now) -> OrderRef | None:
    """The call's order, committed now with its first event and the call's outcome, or found again when the
    webhook was retried; None when the call has no log row (the caller makes one and asks again)."""
    params = {"b_sid": sid, "b_category": category, "b_caller": caller_phone, "b_now": now, "b_path": path,
              "b_detail": event_detail("by_phone", path=path)}
    for _ in range(CODE_DRAWS):  # a code clash with another open order is possible but rare: draw again
        row = _run(conn, "order", {**params, "b_code": draw_code()}).first()
        if row is not None:
            if conn.dialect.name != "postgresql":
                _record_sqlite(conn, row[0], params)
            return OrderRef(*row[:4], new=True)
        found = _run(conn, "existing", {"b_sid": sid}).first()
        if found is not None:
            return OrderRef(*found, new=False)
        if _run(conn, "has_call", {"b_sid": sid}).first() is None:
            return None
    raise RuntimeError("could not allocate an order code")


def _record_sqlite(conn, order_id: int, params: dict) -> None:
    """The event and the call's outcome, in the transaction that inserted the order (SQLite only)."""
    conn.execute(insert(EVENTS).values(order_id=order_id, at=params["b_now"], kind=CREATED.event,
                                       detail=params["b_detail"], actor="caller"))
    conn.execute(update(CALLS).where(CALLS.c.call_sid == params["b_sid"])
                 .values(path=params["b_path"], order_id=order_id, outcome="order"))
