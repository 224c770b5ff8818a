"""Generated bad requests for every Twilio webhook, signed as Twilio signs them, and what every answer must be.

Generated requests carry Unicode of every kind (CJK, emoji, control and format characters, right-to-left
text), fields up to 100 kB (a request over the webhook limits must get 413), missing fields, repeated keys with
different values, non-digit or multi-key
`Digits`, unknown `To` numbers, garbage SIDs and odd query strings (the menu state, tiers, officer ids and
case codes travel there). Signed requests are signed exactly as Twilio signs them (URL + every value of
every parameter, sorted; HMAC-SHA1, or HMAC-SHA256 when the settings header says so) and must get
200 + TwiML whose every callback URL is ours; unsigned or forged ones must get 403 and change nothing in
the database, queue no job and spool nothing (issue 4, property 8).

Each test builds its app and database once and loops over the examples inside (an inner `@given`).
Profiles: `ci` (default, a few dozen examples per route) and `fuzz` (HYPOTHESIS_PROFILE=fuzz, `make fuzz`).
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from dispatch.providers.webhook_urls import END
from hotline.security import MAX_WEBHOOK_BYTES, MAX_WEBHOOK_FIELDS, MAX_WEBHOOK_QUERY
from ivr_flows import engine as ivr
from models import Case, OfferAttempt, Order, utcnow
from tests import people
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, CHILD_NUMBER, ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.orders import walk_to

ROUTES = ("/twilio/voice", "/twilio/voice/menu", "/twilio/voice/status", "/twilio/voice/operator",
          "/twilio/voice/operator/done", "/twilio/voice/screen", "/twilio/voice/screen/answer",
          "/twilio/voice/message", "/twilio/voice/ack", "/twilio/sms", "/twilio/fallback")
ORIGIN = PUBLIC_BASE_URL  # https://hotline.example.gov.cn: the app and the signer see the same scheme and host

# --- the registry every request meets (seeded once per test) ----------------------------------------------

T1, T2 = "+8613800000001", "+8613800000002"
ELDERLY_OFFICER, CHILD_OFFICER, CHILD_TIER2, SUPERVISOR = ("+8613800001001", "+8613800002001",
                                                           "+8613800002003", "+8613800009001")
CASE_CODE = "246810"
ORDER_CODE = "135790"
CALL_SIDS = ["CA" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32, "CA" + "0123456789abcdef" * 2]
SMS_SIDS = ["SM" + "a" * 32, "SM" + "b" * 32]
RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE" + "1" * 32


def seed(db) -> None:
    """Residents, technicians, officers on both lines' rota, an offered order and a case waiting for ACK:
    enough that a request could do something, so a forged one doing nothing means something."""
    resident = people.resident(db)
    people.resident(db, name="李桂兰", phones=(people.RESIDENT_LANDLINE,), address="林东镇团结社区8号楼101")
    t1 = people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5, skills="emergency;housekeeping")
    people.officer(db, "养老线值班员", ELDERLY_OFFICER, line="elderly")
    child = people.officer(db, "一线甲", CHILD_OFFICER, line="child", tier=1)
    people.officer(db, "二线丙", CHILD_TIER2, line="child", tier=2)
    people.officer(db, "督导戊", SUPERVISOR, role="supervisor", line=None)
    order = Order(code=ORDER_CODE, category="housekeeping", resident_id=resident.id, created_at=utcnow())
    db.add(order)
    walk_to(db, order, "offered")
    db.flush()
    db.add(OfferAttempt(order_id=order.id, technician_id=t1.id, status="pending",
                        expires_at=utcnow() + timedelta(hours=1)))
    db.add(Case(code=CASE_CODE, call_sid="CA" + "e" * 32, caller=people.RESIDENT_MOBILE, status="voicemail",
                created_at=utcnow(), alert_round=1))
    db.commit()
    assert child.id


# --- strategies --------------------------------------------------------------------------------------------

ODD = ["", " ", "\x00", "\x00\x01\x1f\x7f", "\u202e1\u202c", "\u200b", "\ufeff", "\r\n", "\t", "\\", "%", "%00", "+",
       "&", "=", "<Response/>", "]]>", "<![CDATA[x]]>", "&amp;", "'\"", "null", "None", "undefined", "-1", "0",
       "NaN", "1e309", "9" * 20, "9" * 4301, "²", "①", "١٢٣", "１２３", "𝟙", "👵🏻📞", "👨‍👩‍👧", "电话", "接单",
       "שלום", "مرحبا", "\ud7ff", "\U0010ffff", "ǅ", "ﬀ", "ｱ", "İ", "ß"]
CJK = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=30)
EMOJI = st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=10)
RTL = st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), max_size=30)
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Mn", "Co"]), max_size=20)
WEIRD = st.one_of(st.sampled_from(ODD), st.text(max_size=40), CJK, EMOJI, RTL, CONTROL,
                  st.from_regex(r"[0-9]{1,40}", fullmatch=True))
WEIRD_KEY = st.one_of(st.sampled_from(["digits", "DIGITS", "Digits ", " Digits", "Digits[]", "Body\x00", "To",
                                       "From", "CallSid", "", "=", "&", "Ｄigits", "Digits\u200b"]),
                      st.text(max_size=12)).filter(lambda k: "?" not in k and "/" not in k)  # see test_webhook_urls
# Up to 100 kB of UTF-8: a repeated chunk is cheap to generate and still exercises every length check.
HUGE = st.builds(lambda chunk, n: (chunk * n).encode()[:100_000].decode(errors="ignore"),
                 st.text(min_size=1, max_size=8), st.integers(1_000, 100_000))

NUMBERS = [people.RESIDENT_MOBILE, people.RESIDENT_LANDLINE, T1, T2, ELDERLY_OFFICER, CHILD_OFFICER, SUPERVISOR,
           ELDERLY_NUMBER, CHILD_NUMBER, "+8613700001111", "anonymous", "+266696687", "client:anna",
           "sip:x@example.com", "13904761234", "0476-8223344", "+86 139 0476 1234", "008613904761234",
           "＋８６１３９０４７６１２３４", "+86139047612341234567890", "+" + "1" * 40, "+1 (555) 010-9999"]
CALL_STATUS = ["ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled", "queued",
               "COMPLETED", "answered"]
REAL = {
    "CallSid": CALL_SIDS + ["CA" + "f" * 31, "unknown"], "ParentCallSid": CALL_SIDS, "DialCallSid": CALL_SIDS,
    "MessageSid": SMS_SIDS + ["SM"], "SmsSid": SMS_SIDS, "AccountSid": [ACCOUNT_SID, "AC" + "2" * 32],
    "From": NUMBERS, "To": NUMBERS, "Caller": NUMBERS, "Called": NUMBERS,
    "CallStatus": CALL_STATUS, "DialCallStatus": CALL_STATUS, "Direction": ["inbound", "outbound-dial", "outbound-api"],
    "ApiVersion": ["2010-04-01"],
    "Digits": ["1", "2", "3", "4", "5", "0", "*", "#", "", "11", "12", "1#", "hangup", "timeout", "①", "١", "²",
               "１", " 1", "1 ", "9" * 50, "\x00", "1\x00"],
    "CallDuration": ["0", "9", "60", "-1", "²", "1.5", "١٢", "9" * 30, "9" * 4301],
    "DialCallDuration": ["0", "12"],
    "RecordingUrl": [RECORDING, "", "javascript:alert(1)", "http://x/" + "a" * 600],
    "RecordingSid": ["RE" + "2" * 32], "RecordingDuration": ["21", "0", "-5"],
    "Body": ["1", "2", "Y", "N", "接单", "拒绝", "到达", "完成", "收到", "ACK", f"收到 {CASE_CODE}", f"ACK {CASE_CODE}",
             f"接单 {ORDER_CODE}", f"1 {ORDER_CODE}", "STOP", "帮助", "？", "１", "接 单", "ACK ١٢٣٤٥٦", "ACK 1 2",
             f"收到{'9' * 4400}", ""],
    "NumMedia": ["0", "1", "x"], "NumSegments": ["1", "0"], "SmsStatus": ["received"],
    "ErrorCode": ["11200", "12100"], "ErrorUrl": [f"{PUBLIC_BASE_URL}/twilio/voice"],
    "SequenceNumber": ["0", "1", "x"], "Timestamp": ["Mon, 01 Jan 2024 00:00:00 +0000"],
}
VOICE = ["CallSid", "AccountSid", "From", "To", "Caller", "Called", "CallStatus", "Direction", "ApiVersion"]
FIELDS = {
    "/twilio/voice": VOICE,
    "/twilio/voice/menu": VOICE + ["Digits"],
    "/twilio/voice/status": VOICE + ["CallDuration", "SequenceNumber", "Timestamp"],
    "/twilio/voice/operator": VOICE,
    "/twilio/voice/operator/done": VOICE + ["DialCallStatus", "DialCallSid", "DialCallDuration"],
    "/twilio/voice/screen": VOICE + ["ParentCallSid"],
    "/twilio/voice/screen/answer": VOICE + ["ParentCallSid", "Digits"],
    "/twilio/voice/message": VOICE + ["RecordingUrl", "RecordingSid", "RecordingDuration"],
    "/twilio/voice/ack": VOICE + ["Digits"],
    "/twilio/sms": ["MessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia", "NumSegments",
                    "SmsStatus", "ApiVersion"],
    "/twilio/fallback": ["CallSid", "MessageSid", "From", "To", "Body", "CallStatus", "ErrorCode", "ErrorUrl"],
}
FLOW = ivr.load_flow("elderly")
NUMERIC = ["0", "1", "2", "3", "10", "99", "-1", "1.0", "99999999999999999999", "9" * 4301, "²", "٣", "１", " 1"]
QUERY_REAL = {
    "node": list(FLOW.nodes) + ["", "Menu", "confirm\x00", "nodes"], "category": list(FLOW.categories) + ["", "x"],
    "silences": NUMERIC, "invalid": NUMERIC, "tier": NUMERIC, "officer": NUMERIC + ["4", "5", "6", "7", "8"],
    "line": ["child", "elderly", "", "CHILD", "both"], "case": [CASE_CODE, "000000", "²", "", "%"],
}
QUERY = {
    "/twilio/voice/menu": ["node", "category", "silences", "invalid"],
    "/twilio/voice/operator": ["tier"], "/twilio/voice/operator/done": ["tier"],
    "/twilio/voice/screen": ["officer", "line"], "/twilio/voice/screen/answer": ["officer", "line"],
    "/twilio/voice/ack": ["case", "officer"],
}
# Raw query fragments, not produced by urlencode: bad escapes, empty pairs, separators.
ODD_QUERY = ["", "&", "&&", "=", "==", "%", "%zz", "%E4", "%E4%B8", "a", "node", "tier=%C2%B2", "officer=%EF%BC%91",
             ";x=1", "tier=1&tier=2", "node=menu&node=confirm", "+", "a=1=2", "%00=%00", "x=%FF%FE"]


def _value(name: str):
    return st.one_of(st.sampled_from(REAL.get(name, ["1"])), WEIRD)


@dataclass
class Req:
    """One generated webhook request, before any signature."""

    path: str
    query: str
    pairs: list[tuple[str, str]]
    token: str | None = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def url(self) -> str:
        return ORIGIN + self.target

    @property
    def body(self) -> bytes:
        return urlencode(self.pairs).encode()


@st.composite
def requests(draw, path: str) -> Req:
    """A Twilio-shaped request to `path`: each field realistic, weird or missing; some repeated; extra keys;
    perhaps one field of up to 100 kB; the pairs in any order; a query string with realistic and odd values."""
    names = FIELDS[path]
    pairs = []
    for name in names:
        value = draw(st.one_of(_value(name), st.none()))  # None: the field is missing
        if value is not None:
            pairs.append((name, value))
    pairs += draw(st.lists(st.tuples(st.sampled_from(names), st.one_of(
        st.sampled_from(names).flatmap(_value), WEIRD)), max_size=3))  # repeated keys, other values
    pairs += draw(st.lists(st.tuples(WEIRD_KEY, WEIRD), max_size=3))
    huge = draw(st.integers(0, 7).flatmap(  # one request in eight carries a field of up to 100 kB
        lambda i: st.tuples(st.sampled_from(names + ["Body", "X"]), HUGE) if i == 7 else st.none()))
    if huge is not None:
        pairs = [p for p in pairs if p[0] != huge[0]] + [huge]
    pairs = draw(st.permutations(pairs))
    qnames = QUERY.get(path, [])
    query_value = st.one_of(st.sampled_from(qnames).flatmap(lambda n: st.sampled_from(QUERY_REAL[n])), WEIRD) \
        if qnames else WEIRD
    qpairs = []
    for name in qnames:  # the query Twilio echoes from our TwiML: mostly the values we would write, or near them
        real = st.sampled_from(QUERY_REAL[name])
        value = draw(st.one_of(real, real, WEIRD, st.none()))
        if value is not None:
            qpairs.append((name, value))
    qpairs += draw(st.lists(st.tuples(st.sampled_from(qnames) | WEIRD_KEY if qnames else WEIRD_KEY, query_value),
                            max_size=3))
    qpairs = draw(st.permutations(qpairs))
    query = urlencode(qpairs, quote_via=quote)
    odd = draw(st.sampled_from(ODD_QUERY))
    if odd:
        query = f"{query}&{odd}" if query and draw(st.booleans()) else (query + odd if query else odd)
    if query:
        query += "&" + END  # the terminator our URLs end with (dispatch.providers.webhook_urls)
    return Req(path, query, pairs, token=draw(st.sampled_from([secrets.token_hex(16), None, "same-token"])))


def sign(url: str, pairs, token: str = AUTH_TOKEN, algorithm: str | None = None) -> str:
    """X-Twilio-Signature over the URL and every value of every parameter (what Twilio sends)."""
    return RequestValidator(token).compute_signature(url, MultiDict(pairs), algorithm)


def post(client, req: Req, signature: str | None, extra_headers: dict | None = None, body: bytes | None = None,
         content_type: str = "application/x-www-form-urlencoded"):
    headers = {"User-Agent": "TwilioProxy/1.1"}
    if req.token is not None:
        headers["I-Twilio-Idempotency-Token"] = req.token
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    headers.update(extra_headers or {})
    return client.post(req.target, data=req.body if body is None else body, headers=headers,
                       content_type=content_type, base_url=ORIGIN)


def over_limits(query: str, body: bytes) -> bool:
    """Whether a request is beyond the webhook limits (hotline.security), to be refused with 413."""
    return len(query) > MAX_WEBHOOK_QUERY or len(body) > MAX_WEBHOOK_BYTES or body.count(b"&") >= MAX_WEBHOOK_FIELDS


def describe(req: Req) -> str:
    pairs = [(k[:60], (v[:60] + f"…({len(v)} chars)") if len(v) > 60 else v) for k, v in req.pairs]
    return f"POST {req.target[:300]} {pairs!r}"


# --- what every answer must be ------------------------------------------------------------------------------

def assert_twiml(resp) -> ET.Element:
    """200, an XML content type, a <Response> root, and every callback URL on our public base URL."""
    assert resp.status_code == 200, f"expected 200 TwiML, got {resp.status_code}: {resp.get_data()[:500]!r}"
    assert resp.mimetype in ("text/xml", "application/xml"), resp.content_type
    root = ET.fromstring(resp.get_data())
    assert root.tag == "Response", root.tag
    for element in root.iter():
        for attribute in ("action", "url"):
            if element.get(attribute):
                assert element.get(attribute).startswith(PUBLIC_BASE_URL + "/twilio/"), element.get(attribute)
        if element.tag == "Redirect":
            assert (element.text or "").strip().startswith(PUBLIC_BASE_URL + "/twilio/"), element.text
    return root


@pytest.fixture
def seeded(app, db):
    seed(db)
    return app
