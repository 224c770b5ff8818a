"""SQLAlchemy models and the session; this package imports nothing else of the project."""
from .base import Base, make_engine, make_hot_engine, make_session_factory, utcnow
from .cases import (
                    CASE_STATUSES,
                    UNACKNOWLEDGED,
                    AccessLog,
                    Case,
                    CaseEvent,
                    case_by_call,
                    case_by_code,
                    case_event,
                    new_case_code,
)
from .comms import CallLog, Message, call_by_sid
from .orders import (
                    CLOSED_STATUSES,
                    MAX_OFFERS,
                    OPEN_STATUSES,
                    OfferAttempt,
                    Order,
                    OrderEvent,
                    add_event,
                    new_code,
                    open_order_by_code,
                    set_status,
)
from .people import (
                    CATEGORIES,
                    CATEGORY_CODES,
                    OFFICER_ROLES,
                    RESIDENT_FLAGS,
                    Officer,
                    Resident,
                    ResidentPhone,
                    Technician,
                    officer_by_phone,
                    resident_by_phone,
                    technician_by_phone,
)
from .receipts import WebhookReceipt, purge_receipts
from .rota import LINES, RotaShift, escalation_chain, on_duty_tiers, supervisors
from .staff import ROLES, StaffUser, user_by_name
from .staff_sessions import ConsoleSession, end_user_sessions, open_session_counts, session_with_user, token_hash

__all__ = [
    "Base", "make_engine", "make_hot_engine", "make_session_factory", "utcnow",
    "CASE_STATUSES", "UNACKNOWLEDGED", "AccessLog", "Case", "CaseEvent", "case_by_call", "case_by_code",
    "case_event", "new_case_code",
    "CallLog", "Message", "call_by_sid",
    "CLOSED_STATUSES", "MAX_OFFERS", "OPEN_STATUSES", "OfferAttempt", "Order", "OrderEvent",
    "add_event", "new_code", "open_order_by_code", "set_status",
    "CATEGORIES", "CATEGORY_CODES", "OFFICER_ROLES", "RESIDENT_FLAGS", "Officer", "Resident",
    "ResidentPhone", "Technician", "officer_by_phone", "resident_by_phone", "technician_by_phone",
    "WebhookReceipt", "purge_receipts",
    "ROLES", "StaffUser", "user_by_name",
    "ConsoleSession", "end_user_sessions", "open_session_counts", "session_with_user", "token_hash",
    "LINES", "RotaShift", "escalation_chain", "on_duty_tiers", "supervisors",
]
