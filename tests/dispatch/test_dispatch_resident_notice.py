"""Dispatch through the RQ worker: the resident is told who is coming, by SMS or by a call to a landline."""
from __future__ import annotations

from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.dispatch.dispatch_helpers import T1
from tests.orders import call_in, texts_to

# --- notifying the resident ---------------------------------------------------------------------

def test_accept_tells_a_mobile_resident_by_sms_who_is_coming(tw, db, run_worker, fake_twilio):
    people.resident(db)
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="接单")
    run_worker()
    [notice] = texts_to(fake_twilio, people.RESIDENT_MOBILE)
    assert "张师傅" in notice and "13800000001" in notice and "15分钟" in notice
    assert fake_twilio.calls == []


def test_accept_calls_a_landline_resident_in_mandarin(tw, db, run_worker, fake_twilio):
    people.resident(db, phones=(people.RESIDENT_LANDLINE,))
    people.technician(db, "张师傅", T1)
    call_in(tw, people.RESIDENT_LANDLINE)
    run_worker()
    tw.sms(from_=T1, to=ELDERLY_NUMBER, body="接单")
    run_worker()
    [call] = fake_twilio.calls
    assert call["to"] == people.RESIDENT_LANDLINE and call["from_"] == ELDERLY_NUMBER
    assert 'language="cmn-CN"' in call["twiml"] and "张师傅" in call["twiml"] and "15分钟" in call["twiml"]
    assert texts_to(fake_twilio, people.RESIDENT_LANDLINE) == []
