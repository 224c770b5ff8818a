"""Numbers, counters and the offered order shared by the webhook reliability tests (issue 4)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.factory import create_app
from models import CallLog, OrderEvent
from tests import people
from tests.orders import make_order, texts_to
from tests.twilio_client import parse_twiml

T1 = "+8613800000001"
FALLBACK_NUMBER = "+8613700009999"


def _events(db, order_id: int, kind: str) -> int:
    db.expire_all()
    return db.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order_id,
                                                           OrderEvent.kind == kind))


def _count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def offered(app, db, run_worker, fake_twilio):
    """A housekeeping order offered to 张师傅 (T1) by the worker."""
    resident = people.resident(db)
    people.technician(db, "张师傅", T1)
    order = make_order(app, db, resident)
    run_worker()
    assert texts_to(fake_twilio, T1)
    return order


def _call_row(db, sid: str) -> CallLog:
    db.expire_all()
    return db.scalars(select(CallLog).where(CallLog.call_sid == sid)).one()


def _app(settings, **changes):
    app = create_app(settings.with_overrides(fallback_number=FALLBACK_NUMBER, **changes))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an unexpected error must show as the 500 Twilio would get
    return app


def _is_fallback(resp) -> None:
    root = parse_twiml(resp)
    assert [verb.tag for verb in root] == ["Say", "Dial"]
    assert "对不起" in "".join(root[0].itertext()) and root[0].get("language") == "cmn-CN"
    assert "".join(root[1].itertext()).strip() == FALLBACK_NUMBER
