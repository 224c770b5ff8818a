"""The elderly line with SMS on Alibaba Cloud (calls on Twilio): a resident's call becomes an order, the offer goes
to the nearest technician as a template SMS, his SmsUp "1 CODE" accepts it, and the resident is told by the outbox;
arrival and completion follow the same way, and every SMS sent is settled by Alibaba's receipts."""
from __future__ import annotations

from sqlalchemy import select

from models import Message
from tests import people
from tests.aliyun_helpers import aliyun_fake, aliyun_settings, code_of, poster, report_url, up_url  # noqa: F401 (fixtures: fake_aliyun, settings)
from tests.orders import call_in, only_order

T1, T2 = "+8613800000001", "+8613800000002"


def _sent(fake, kind: str) -> list[tuple[str, dict]]:
    return [(m["phone"], m["params"]) for m in fake.messages if m["template_code"] == code_of(kind)]


def _reply(client, fake, run_worker, phone: str, text: str) -> None:
    fake.reply(phone, text)
    status, _ = fake.push_up(up_url(), poster(client))
    assert status == 200
    run_worker()


def test_an_order_offered_by_aliyun_sms_is_accepted_by_sms_up_and_the_resident_is_told(
        tw, client, db, fake_aliyun, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    [(phone, params)] = _sent(fake_aliyun, "offer")
    assert phone == "13800000001" and params["code"] == order.code and params["category"] == "家政维修"

    _reply(client, fake_aliyun, run_worker, T1, f"1 {order.code}")
    assert only_order(db).status == "accepted"
    assert _sent(fake_aliyun, "accepted") == [("13800000001", {"code": order.code})]
    [(resident_phone, notice)] = _sent(fake_aliyun, "notify_resident")
    assert resident_phone == people.RESIDENT_MOBILE.removeprefix("+86") and notice["tech"] == "张师傅"
    assert notice["code"] == order.code


def test_arrival_and_completion_by_sms_up_close_the_order_and_receipts_settle_every_sms(
        tw, client, db, fake_aliyun, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    code = only_order(db).code
    for text in (f"1 {code}", "到达", "完成"):
        _reply(client, fake_aliyun, run_worker, T1, text)
    assert only_order(db).status == "completed"
    assert _sent(fake_aliyun, "completed") == [("13800000001", {"code": code})]
    fake_aliyun.push_reports(report_url(), poster(client))
    db.expire_all()
    statuses = {m.status for m in db.scalars(select(Message).where(Message.direction == "outbound",
                                                                  Message.channel == "sms"))}
    assert statuses == {"delivered"} and fake_aliyun.pending_pushes == 0
