"""Benchmark 4: characters and SMS segments of every outbound template, and of a real order run through the code."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from dispatch import runtime
from dispatch.jobs import offer_order_job, send_message_job
from dispatch.offers import offer_text
from dispatch.texts import CATALOGUES
from hotline.factory import create_app
from hotline.softphone import twilio_wire as wire
from models import Message, Order, Resident, ResidentPhone, Technician
from tests.twilio_fake import count_segments  # Twilio's billing rule as the project's fake applies it

from .env import AUTH_TOKEN, ELDERLY_NUMBER
from .stats import table, verdict

# Worst cases as they happen in 巴林左旗: long Mongolian names in Chinese characters, a full address.
NAME, TECH = "额尔敦毕力格图", "乌力吉巴雅尔图"
ADDRESS = "内蒙古自治区赤峰市巴林左旗林东镇东城社区幸福家园小区12号楼3单元501室"
RESIDENT_PHONE, TECH_PHONE = "+8613904769999", "+8618804769999"
CODE = "123456"
SPOKEN_ONLY = ("notify_resident_call", "case_call", "case_call_ok", "notify_reassigned_call", "arrival_call",
               "police_call")
PUBLIC = "http://127.0.0.1:5000"


def _values(lang: str) -> dict:
    cat = CATALOGUES[lang]
    return {"code": CODE, "category": max(cat["category"].values(), key=len), "address": ADDRESS, "name": NAME,
            "phone": "13904769999", "tech": TECH, "tech_phone": "18804769999", "minutes": "15",
            "codes": ",".join([CODE, "234567", "345678"]), "first": CODE, "line": max(cat["line"].values(), key=len),
            "status": max(cat["case_status"].values(), key=len), "due": "12-31 23:59", "who": NAME,
            "kind": max(cat.get("task_kind", {"": ""}).values(), key=len), "station": "巴林左旗公安局林东派出所",
            "number": "LD2026123100123", "reporter": NAME, "round": "12", "sms": "12", "calls": "12", "n": "12",
            "method": "数字人民币", "paid": "9999.99", "reason": "没看懂"}


class _Worst(dict):
    """Values for a template; a placeholder this file does not know yet gets a 12-character stand-in (the bench
    must keep running when a template is added: its length shows in the table, and it is worth a real value)."""

    def __missing__(self, key: str) -> str:
        return "某" * 12


def _card(lang: str, key: str) -> str:
    """An order card through the project's own truncation (offer_text)."""
    order = Order(code=CODE, category="housekeeping" if key != "offer_emergency" else "emergency",
                  caller_phone=RESIDENT_PHONE, resident=Resident(name=NAME, address=ADDRESS))
    return offer_text(order, lang, key)


def templates(lang: str) -> list[tuple[str, str, int, int]]:
    """(key, text, characters, segments) of every SMS template filled with worst-case values."""
    values, rows = _values(lang), []
    for key, template in CATALOGUES[lang].items():
        if not isinstance(template, str) or key in SPOKEN_ONLY:
            continue
        cards = ("offer", "offer_emergency", "assigned")
        body = _card(lang, key) if key in cards else template.format_map(_Worst(values))
        rows.append((key, body, len(body), count_segments(body)))
    return rows


def _post(client, path: str, params: dict) -> str:
    headers = wire.signed_headers(AUTH_TOKEN, PUBLIC, path, params)
    resp = client.post(path, data=params, headers=headers)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def real_order(servers) -> list[tuple[str, str, int]]:
    """One order from call to completion through the webhooks and jobs; every SMS it caused (key, body, segments)."""
    settings = servers.settings(public_base_url=PUBLIC)
    app = create_app(settings)
    rt = runtime.configure(settings)
    with rt.session_factory() as session:
        resident = Resident(name=NAME, address=ADDRESS, lat=43.9111, lng=119.2222, active=True)
        resident.phones.append(ResidentPhone(phone=RESIDENT_PHONE))
        session.add_all([resident, Technician(name=TECH, phone=TECH_PHONE, skills="housekeeping", lat=43.9111,
                                              lng=119.2222, active=True)])
        session.commit()
    client, sent = app.test_client(), []
    call = wire.call_params(wire.new_sid("CA"), wire.placeholder_account(), RESIDENT_PHONE, ELDERLY_NUMBER, "ringing")
    body = _post(client, wire.VOICE_PATH, call)
    for key in ("2", "1"):
        action = ET.fromstring(body).find("Gather").get("action")
        body = _post(client, wire.path_of(action), dict(call, CallStatus="in-progress", Digits=key))
    with rt.session_factory() as session:
        order_id = session.scalar(select(Order.id).where(Order.call_sid == call["CallSid"]))
    offer_order_job(order_id)
    _send_queued(rt, order_id)
    for reply in ("1", "到达", "完成"):
        sms = wire.sms_params(wire.new_sid("SM"), wire.placeholder_account(), TECH_PHONE, ELDERLY_NUMBER, reply)
        for message in ET.fromstring(_post(client, wire.SMS_PATH, sms)).iter("Message"):
            text = "".join(message.itertext())
            sent.append((f"reply to “{reply}” (TwiML)", text, count_segments(text)))
        _send_queued(rt, order_id)
    with rt.session_factory() as session:
        rows = session.scalars(select(Message).where(Message.order_id == order_id, Message.direction == "outbound")
                               .order_by(Message.id)).all()
        outbox = [(f"{m.key} ({m.channel}, outbox)", m.body, count_segments(m.body) if m.channel == "sms" else 0)
                  for m in rows]
        status = session.get(Order, order_id).status
    app.extensions["hotline"].engine.dispose()
    servers.flush_redis()
    return outbox + sent, status


def _send_queued(rt, order_id: int) -> None:
    with rt.session_factory() as session:
        ids = session.scalars(select(Message.id).where(Message.order_id == order_id, Message.status == "queued")).all()
    for message_id in ids:
        send_message_job(message_id)


def run(servers) -> dict:
    """Templates in both languages, then a real order; the offer must fit one segment."""
    lines = [f"Worst-case values: resident {NAME}, technician {TECH}, address {ADDRESS} ({len(ADDRESS)} characters), "
             "11-digit numbers, 3 open codes; segments as Twilio bills them (GSM-7 160/153 when every character "
             "allows, else UCS-2 70/67; `tests/twilio_fake.count_segments`). Order cards (offer, "
             "offer_emergency, assigned) go through the project's own truncation `dispatch.offers.offer_text`.", ""]
    offer_segments: dict[str, int] = {}
    for lang in ("zh-CN", "en"):
        rows = templates(lang)
        offer_segments[lang] = max(s for k, _, _, s in rows if k in ("offer", "offer_emergency"))
        lines += [f"**{lang}**", ""] + table(["template", "characters", "segments", "text"],
                                             [[k, n, s, t] for k, t, n, s in rows]) + [""]
    order_msgs, status = real_order(servers)
    total = sum(s for _, _, s in order_msgs)
    lines += [f"**One real order** (zh-CN, local outbox; call 2 → 1, offer job, technician replies 1 / 到达 / 完成; "
              f"final status `{status}`): every message it caused", ""]
    lines += table(["message", "characters", "segments", "text"],
                   [[k, len(b) if s else "(voice call)", s or "-", b if s else "TwiML call"] for k, b, s in order_msgs])
    lines += ["", f"**{total} SMS segments per completed order** ({len([m for m in order_msgs if m[2]])} SMS; "
              "the satisfaction call is a voice call). Cost ratio against the ideal of one segment per SMS: "
              f"{total / max(1, len([m for m in order_msgs if m[2]])):.2f}×."]
    return {"title": "4. Message cost", "lines": lines,
            "targets": [(f"the offer SMS fits one segment ({lang}, normal and emergency, worst case)",
                         f"{n} segment(s)", verdict(n == 1)) for lang, n in offer_segments.items()] + [
                        ("segments per completed order (report)", str(total), "info")]}
