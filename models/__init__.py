"""SQLAlchemy models and the session; this package imports nothing else of the project."""
from .base import Base, make_engine, make_hot_engine, make_session_factory, utcnow
from .cases import (
                    ACCESS_ACTIONS,
                    AccessLog,
                    Case,
                    CaseEvent,
                    case_by_call,
                    case_by_code,
                    case_event,
                    log_access,
                    new_case_code,
                    set_case_status,
)
from .casework import (
                    CHILD_FLAGS,
                    LINK_KINDS,
                    LIVING,
                    SEXES,
                    WORKER_ROLES,
                    CaseCategory,
                    CaseChild,
                    CaseLink,
                    CaseTask,
                    CaseWorker,
                    worker_by_phone,
)
from .comms import CallLog, Message, call_by_sid, log_call
from .lifecycle import (
                    CALL_ENDED,
                    CASE_CLOSABLE,
                    CASE_MESSAGE_ALLOWED,
                    CASE_TRANSITIONS,
                    CASE_UNACKNOWLEDGED,
                    OFFER_LOST,
                    ORDER_ACCEPTABLE,
                    ORDER_CLOSED,
                    ORDER_OFFERABLE,
                    ORDER_OPEN,
                    ORDER_REASSIGNABLE,
                    ORDER_TRANSITIONS,
                    ORDER_WORKING,
                    TASK_FINISHED,
                    TASK_OPEN,
                    TASK_TRANSITIONS,
                    CaseStatus,
                    OfferStatus,
                    OrderStatus,
                    TaskStatus,
                    Transition,
)
from .orders import MAX_OFFERS, OfferAttempt, Order, OrderEvent, add_event, new_code, open_order_by_code, set_status
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
from .services import RESIDENT_CLASSES, PriceRule, ServiceProvider, SubsidyRule, price_in_force, subsidy_in_force
from .settlement import LINE_KINDS, Statement, StatementLine, StatementStatus
from .staff import ROLES, StaffUser, user_by_name
from .staff_sessions import ConsoleSession, end_user_sessions, open_session_counts, session_with_user, token_hash
from .visits import PAYMENT_METHODS, VISIT_SOURCES, Payment, Verification, Visit

__all__ = [
    "Base", "make_engine", "make_hot_engine", "make_session_factory", "utcnow",
    "ACCESS_ACTIONS", "AccessLog", "Case", "CaseEvent", "case_by_call", "case_by_code", "case_event", "log_access",
    "new_case_code",
    "set_case_status",
    "CHILD_FLAGS", "LINK_KINDS", "LIVING", "SEXES", "WORKER_ROLES", "CaseCategory", "CaseChild", "CaseLink",
    "CaseTask", "CaseWorker", "worker_by_phone",
    "TASK_FINISHED", "TASK_OPEN", "TASK_TRANSITIONS", "TaskStatus",
    "CALL_ENDED", "CASE_CLOSABLE", "CASE_MESSAGE_ALLOWED", "CASE_TRANSITIONS", "CASE_UNACKNOWLEDGED",
    "OFFER_LOST", "ORDER_ACCEPTABLE", "ORDER_CLOSED", "ORDER_OFFERABLE", "ORDER_OPEN", "ORDER_REASSIGNABLE",
    "ORDER_TRANSITIONS", "ORDER_WORKING", "CaseStatus", "OfferStatus", "OrderStatus", "Transition",
    "CallLog", "Message", "call_by_sid", "log_call",
    "MAX_OFFERS", "OfferAttempt", "Order", "OrderEvent",
    "add_event", "new_code", "open_order_by_code", "set_status",
    "CATEGORIES", "CATEGORY_CODES", "OFFICER_ROLES", "RESIDENT_FLAGS", "Officer", "Resident",
    "ResidentPhone", "Technician", "officer_by_phone", "resident_by_phone", "technician_by_phone",
    "WebhookReceipt", "purge_receipts",
    "ROLES", "StaffUser", "user_by_name",
    "ConsoleSession", "end_user_sessions", "open_session_counts", "session_with_user", "token_hash",
    "RESIDENT_CLASSES", "PriceRule", "ServiceProvider", "SubsidyRule", "price_in_force", "subsidy_in_force",
    "LINE_KINDS", "Statement", "StatementLine", "StatementStatus",
    "PAYMENT_METHODS", "VISIT_SOURCES", "Payment", "Verification", "Visit",
    "LINES", "RotaShift", "escalation_chain", "on_duty_tiers", "supervisors",
]
