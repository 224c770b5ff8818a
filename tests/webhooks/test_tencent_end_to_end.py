"""The elderly line with SMS on Tencent Cloud (calls on Twilio): a resident's signed call becomes an order, the offer
goes to the nearest technician as a template SMS, his reply callback "1 CODE" accepts it, and the resident is told
by the outbox; arrival and completion follow the same way, and every SMS sent is settled by Tencent's status
callbacks."""
from __future__ import annotations

from sqlalchemy import select

from models import Message
from tests import people
from tests.orders import call_in, only_order
from tests.tencent_helpers import id_of, poster, reply_url, status_url, tencent_fake, tencent_settings  # noqa: F401 (fixtures: fake_tencent, settings)

T1, T2 = "+8613800000001", "+8613800000002"


def _sent(fake, kind: str) -> list[tuple[str, list]]:
    return [(m["phone"], m["params"]) for m in fake.messages if m["template_id"] == id_of(kind)]


def _reply(client, fake, run_worker, phone: str, text: str) -> None:
    fake.reply(phone, text)
    status, _ = fake.push_replies(reply_url(), poster(client))
    assert status == 200
    run_worker()


def test_an_order_offered_by_tencent_sms_is_accepted_by_a_reply_and_the_resident_is_told(
        tw, client, db, fake_tencent, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    [(phone, params)] = _sent(fake_tencent, "offer")
    assert phone == T1 and params[0] == order.code and params[1] == "家政维修"

    _reply(client, fake_tencent, run_worker, T1, f"1 {order.code}")
    assert only_order(db).status == "accepted"
    assert _sent(fake_tencent, "accepted") == [(T1, [order.code])]
    [(resident_phone, notice)] = _sent(fake_tencent, "notify_resident")
    assert resident_phone == people.RESIDENT_MOBILE and "张师傅" in notice and order.code in notice


def test_arrival_and_completion_by_reply_close_the_order_and_reports_settle_every_sms(
        tw, client, db, fake_tencent, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    code = only_order(db).code
    for text in (f"1 {code}", "到达", "完成"):
        _reply(client, fake_tencent, run_worker, T1, text)
    assert only_order(db).status == "completed"
    assert _sent(fake_tencent, "completed") == [(T1, [code])]
    fake_tencent.push_reports(status_url(), poster(client))
    db.expire_all()
    statuses = {m.status for m in db.scalars(select(Message).where(Message.direction == "outbound",
                                                                  Message.channel == "sms"))}
    assert statuses == {"delivered"} and fake_tencent.pending_callbacks == 0
