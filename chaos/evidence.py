"""What the database and the providers' fakes hold after the run, joined: which outbound row each message a
fake accepted belongs to, which were duplicates, which rows never reached a fake. Alibaba's SMS carry the
outbox key (OutId): they are joined and counted by it, as Alibaba's own records would show a duplicate."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from dispatch.providers import script_of
from models import CallLog, Case, CaseEvent, Message, OfferAttempt, Order, OrderEvent, make_engine, make_session_factory

# Order events a call's key sets once: a second one would be a replayed report acting twice.
ONCE = ("visit_verified", "visit_disputed", "rating")


@dataclass
class Evidence:
    orders: list = field(default_factory=list)
    attempts: list = field(default_factory=list)
    outbound: list = field(default_factory=list)
    inbound_sids: set = field(default_factory=set)
    answered_replies: set = field(default_factory=set)  # inbound SIDs whose answer SMS reached the provider
    cases: list = field(default_factory=list)
    alert_events: dict = field(default_factory=dict)   # case id -> [at, ...]
    call_logs: dict = field(default_factory=dict)      # call sid -> CallLog
    fake_sent: dict = field(default_factory=dict)      # sid -> when the fake accepted it
    timeline: list = field(default_factory=list)
    # joined
    row_of_sid: dict = field(default_factory=dict)     # fake sid -> outbound row (recorded SID)
    delivered: dict = field(default_factory=dict)      # row id -> first time the fake accepted it
    orphans: list = field(default_factory=list)        # (fake record, row or None): accepted, SID not recorded
    dups: list = field(default_factory=list)           # (fake record, row): a second delivery of one row
    unknown: list = field(default_factory=list)        # fake messages matching no outbound row at all
    # Alibaba voice: effects a replayed VoiceReport must not repeat, and acknowledgements by a call's key
    double_effects: list = field(default_factory=list)  # (case id, n) acknowledged twice, (order id, kind, n)
    voice_acks: int = 0


def collect(database_url: str, sms, voice) -> Evidence:
    """Everything the figures are counted from, read once the app has stopped."""
    ev = Evidence()
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            ev.orders = list(s.scalars(select(Order)))
            ev.attempts = list(s.scalars(select(OfferAttempt)))
            ev.outbound = list(s.scalars(select(Message).where(Message.direction == "outbound",
                                                               Message.status != "twiml")))
            ev.inbound_sids = set(s.scalars(select(Message.provider_sid).where(Message.direction == "inbound")))
            ev.cases = list(s.scalars(select(Case)))
            for case_id, at in s.execute(select(CaseEvent.case_id, CaseEvent.at).where(CaseEvent.kind == "alert")
                                         .order_by(CaseEvent.id)):
                ev.alert_events.setdefault(case_id, []).append(at.timestamp())
            ev.call_logs = {c.call_sid: c for c in s.scalars(select(CallLog))}
            acks = Counter(s.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "acknowledged")))
            once = Counter(s.execute(select(OrderEvent.order_id, OrderEvent.kind).where(OrderEvent.kind.in_(ONCE))))
            ev.double_effects = [(c, n) for c, n in acks.items() if n > 1] + [
                (*k, n) for k, n in once.items() if n > 1]
            ev.voice_acks = len(list(s.scalars(select(CaseEvent.id).where(
                CaseEvent.kind == "acknowledged", CaseEvent.detail.contains("voice")))))
    finally:
        engine.dispose()
    timelines = [*sms.timeline(), *(voice.fake.timeline_copy() if voice.fake not in sms.fakes else [])]
    ev.timeline = sorted(timelines, key=lambda r: r["start"])
    ev.fake_sent = {t["sid"]: t["end"] for t in ev.timeline if t["sid"] and t["status"] == 201}
    _join(ev, sms.sent(), voice.calls())
    by_key = {m.key: m for m in ev.outbound if m.key}
    ev.answered_replies = {sid for sid in ev.inbound_sids if sid and (by_key.get(f"reply:{sid}") is not None
                                                                      and by_key[f"reply:{sid}"].id in ev.delivered)}
    return ev


def _join(ev: Evidence, sms: list[dict], calls: list[dict]) -> None:
    by_sid = {m.provider_sid: m for m in ev.outbound if m.provider_sid}
    # Outbox keys, and "#<row id>": Alibaba's voice OutId is the row's id.
    by_key = {**{m.key: m for m in ev.outbound if m.key}, **{f"#{m.id}": m for m in ev.outbound}}
    first: dict = {}   # outbox key -> the first send the provider accepted for it
    by_content = defaultdict(list)
    for m in ev.outbound:
        by_content[(m.channel, m.to_phone, _said_by_row(m) if m.channel == "call" else m.body)].append(m)
    accepted = [("sms", r["sid"], r["to"], r["body"], r["key"]) for r in sms]
    accepted += [("call", r["sid"], r["to"], r.get("said") or _said_by_twiml(r.get("twiml", "")), r.get("key"))
                 for r in calls]
    for channel, sid, to, body, key in accepted:
        at = ev.fake_sent.get(sid, 0.0)
        if key is not None:   # the provider knows the outbox key: one row, and any second send a duplicate
            row, record = by_key.get(key), {"sid": sid, "to": to, "body": body, "at": at}
            if row is None:
                ev.unknown.append(record)
            elif key in first:   # classified by the first send: the one whose answer the worker never had
                ev.dups.append((first[key], row))
            else:
                first[key], ev.row_of_sid[sid], ev.delivered[row.id] = record, row, at
            continue
        row = by_sid.get(sid)
        if row is not None:
            ev.row_of_sid[sid] = row
            ev.delivered[row.id] = min(ev.delivered.get(row.id, at), at)
            continue
        same = by_content.get((channel, to, body), [])
        if not same:
            ev.unknown.append({"sid": sid, "to": to, "body": body, "at": at})
            continue
        # Several rows can share a text (alert rounds): the one not yet delivered first, else the last.
        row = next((m for m in same if m.id not in ev.delivered and m.provider_sid is None), None) or same[-1]
        ev.orphans.append(({"sid": sid, "to": to, "body": body, "at": at}, row))
        if row.provider_sid is None:
            ev.delivered[row.id] = min(ev.delivered.get(row.id, at), at)
        else:   # the row keeps another SID: this one went out as well
            ev.dups.append(ev.orphans[-1])


# A call's outbox body is its script (JSON) and Twilio gets TwiML rendered from it: a call whose SID went
# unrecorded (its send timed out) is matched to its row by what it says, not by the bytes of either.
def _said_by_row(message) -> str:
    script = script_of(message.body)
    return _said_by_twiml(script.verbatim) if script.verbatim else "|".join(dict.fromkeys(script.sentences))


def _said_by_twiml(twiml: str) -> str:
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return twiml
    return "|".join(dict.fromkeys("".join(say.itertext()) for say in root.iter("Say")))


def timeline_of(ev: Evidence, sid: str) -> dict | None:
    return next((t for t in ev.timeline if t["sid"] == sid), None)


def duplicates(ev: Evidence, kill_times: list[float], timeout: float) -> tuple[list, list, list]:
    """(duplicates of a worker killed mid-send, duplicates of a provider timeout, any other duplicate).

    A duplicate is a message the fake accepted twice for one outbound row: once unrecorded (the orphan) and
    once with the SID the row keeps. The first two kinds are the window where the provider accepted a message
    and the worker never learned its SID: it died during the request, or the request timed out."""
    window, slow, other = [], [], []
    for record, row in ev.dups:
        entry = timeline_of(ev, record["sid"]) or {"start": record["at"], "end": record["at"]}
        if any(entry["start"] - 0.1 <= k <= entry["end"] + 0.1 for k in kill_times):
            window.append((record, row))
        elif entry["end"] - entry["start"] >= timeout:
            slow.append((record, row))
        else:
            other.append((record, row))
    # Cross-check by purpose, from the fake side alone: one offer attempt, one offer SMS to its technician.
    counted = {record["sid"] for record, _ in window + slow + other}
    per_attempt = defaultdict(list)
    for r in ev.timeline:
        if r["sid"] and r["kind"] == "sms" and "派单" in r["body"]:
            per_attempt[(r["to"], r["body"])].append(r["sid"])
    for (to, body), sids in per_attempt.items():
        extra = len(sids) - 1 - sum(1 for sid in sids if sid in counted)
        other += [({"sid": sid, "to": to, "body": body, "at": 0}, None) for sid in sids[len(sids) - extra:]]
    return window, slow, other
