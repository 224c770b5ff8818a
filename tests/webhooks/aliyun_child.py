"""Readers and a handset for the child-line tests on Alibaba Cloud SMS: what the fake accepted, by template kind
or by number, and a reply pushed as Alibaba pushes SmsUp."""
from __future__ import annotations

import json

from tests.aliyun_helpers import code_of, poster, up_url


def digits(phone: str) -> str:
    """Alibaba's PhoneNumbers form of a mainland E.164 number: its 11 digits."""
    return phone.removeprefix("+86")


def sent(fake, kind: str) -> list[tuple[str, dict]]:
    """(phone, TemplateParam) of every SMS the fake accepted as `kind`'s approved template, sorted by phone."""
    return sorted((m["phone"], m["params"]) for m in fake.messages if m["template_code"] == code_of(kind))


def sent_to(fake, phone: str) -> list[dict]:
    """The SMS the fake accepted for `phone` (E.164), in the order they came."""
    return [m for m in fake.messages if m["phone"] == digits(phone)]


def reply(client, fake, run_worker, phone: str, text: str) -> None:
    """A handset answers: Alibaba pushes the SmsUp batch (taken only when answered code 0), then the worker sends
    what the hotline answered."""
    fake.reply(phone, text)
    status, answer = fake.push_up(up_url(), poster(client))
    assert status == 200 and json.loads(answer)["code"] == 0, "the SmsUp batch was not taken"
    run_worker()
