"""Webhook size limits: an unsigned flood is refused (413) before its form is parsed or a signature computed."""
from __future__ import annotations

import select
import socket
import threading
import time
from urllib.parse import urlsplit

from flask import request

from hotline.security import MAX_WEBHOOK_BYTES, MAX_WEBHOOK_FIELDS, MAX_WEBHOOK_QUERY, webhook_limits
from tests import people
from tests.conftest import ELDERLY_NUMBER
from tests.live import http_tw, in_parallel, serve
from tests.twilio_client import parse_twiml

FORM = "application/x-www-form-urlencoded"
FLOODS = 8
FLOOD_FIELDS = 300_000
GREETING_BUDGET_SECONDS = 3.0  # Twilio gives up after 15 s


class _Unreadable:
    """A request body of `size` bytes that fails the test if anything reads it."""

    def __init__(self, size: int):
        self.size, self.position = size, 0

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size if whence == 2 else offset
        return self.position

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readlines = read


def test_a_body_over_the_limit_is_refused_with_413_without_being_read(client):
    resp = client.post("/twilio/voice", input_stream=_Unreadable(MAX_WEBHOOK_BYTES + 1),
                       content_type=FORM)
    assert resp.status_code == 413 and len(resp.get_data()) < 64


def test_more_than_a_hundred_fields_are_refused_with_413(client):
    body = "&".join(f"f{i}=1" for i in range(MAX_WEBHOOK_FIELDS + 1))
    assert len(body) < MAX_WEBHOOK_BYTES
    assert client.post("/twilio/sms", data=body, content_type=FORM).status_code == 413


def test_a_query_string_over_the_limit_is_refused_with_413(client):
    resp = client.post("/twilio/voice/menu?path=" + "1" * MAX_WEBHOOK_QUERY, data={"CallSid": "CA1"})
    assert resp.status_code == 413


def test_a_chunked_body_without_content_length_is_refused_with_413(client):
    resp = client.post("/twilio/voice", input_stream=_Unreadable(100), content_type=FORM,
                       headers={"Transfer-Encoding": "chunked"})
    assert resp.status_code == 413


def test_the_form_is_parsed_from_the_body_the_limits_read(app):
    body = b"CallSid=CA1&Digits=2&Body=%E4%BD%A0%E5%A5%BD"
    with app.test_request_context("/twilio/voice/menu", method="POST", data=body, content_type=FORM):
        assert webhook_limits() is None
        assert request.form.to_dict() == {"CallSid": "CA1", "Digits": "2", "Body": "你好"}


def test_a_twilio_sized_sms_of_1600_chinese_characters_still_passes(tw):
    resp = tw.sms(people.RESIDENT_MOBILE, ELDERLY_NUMBER, "帮" * 1600)
    assert resp.status_code == 200 and resp.mimetype == "text/xml"


def _flood(port: int, body: bytes) -> int:
    """One forged POST of `body` on a raw socket; the status code, read as soon as the server answers.

    It carries a made-up signature: one the app must compute over every field before it can refuse it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + FORM.encode()
                     + b"\r\nX-Twilio-Signature: bm90IGEgc2lnbmF0dXJl\r\nContent-Length: %d\r\n\r\n" % len(body))
        try:
            for start in range(0, len(body), 64 * 1024):
                if select.select([sock], [], [], 0)[0]:
                    break  # answered before the body was sent: it was never going to be read
                sock.sendall(body[start:start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass
        status = sock.recv(64)
    return int(status.split()[1]) if status.startswith(b"HTTP/") else 0


def test_a_flood_of_huge_forged_posts_does_not_delay_a_real_greeting(app, db):
    people.resident(db)
    body = b"&".join(b"f%d=1" % i for i in range(FLOOD_FIELDS))
    with serve(app) as base:
        port = urlsplit(base).port
        call = http_tw(base).new_call(from_=people.RESIDENT_MOBILE, to=ELDERLY_NUMBER)
        taken: list[float] = []

        def greet():
            time.sleep(0.3)  # the floods are in flight
            started = time.monotonic()
            parse_twiml(call.post("/twilio/voice"))
            taken.append(time.monotonic() - started)

        greeter = threading.Thread(target=greet)
        greeter.start()
        statuses = in_parallel(lambda: [_flood(port, body) for _ in range(3)], [()] * FLOODS)
        greeter.join(60)
    assert taken and taken[0] < GREETING_BUDGET_SECONDS, f"the greeting took {taken} s"
    assert statuses == [[413] * 3] * FLOODS
