"""The Tencent Cloud SMS fake for tests: one server per run, its credentials, approved templates and callback URLs.

A test module that sends SMS through Tencent imports the two fixtures `tencent_fake` (as `fake_tencent`) and
`tencent_settings` (as `settings`): `from tests.tencent_helpers import tencent_fake, tencent_settings  # noqa: F401`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.providers.tencent_templates import DEFAULT_PATH
from tests.tencent_fake import FakeTencentSms, Poster

SECRET_ID, SECRET_KEY = "AKIDhotlineTest0000000000000001", "hotline-test-tencent-secret-key"
APP_ID, SIGN_NAME = "1400123456", "巴林左旗民政局"
CALLBACK_TOKEN = "callback-token-0123456789abcdef"
_server: FakeTencentSms | None = None


def approved() -> dict:
    """The shipped template file with a template id for every kind, as if Tencent had approved them all."""
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for i, raw in enumerate(data["templates"].values()):
        raw["id"] = str(2000000 + i)
    return data


def fake_server() -> FakeTencentSms:
    """The run's fake (started on first use; reset it per test)."""
    global _server
    if _server is None:
        templates = {raw["id"]: (tuple(raw["params"]), raw["text"]) for raw in approved()["templates"].values()}
        _server = FakeTencentSms(SECRET_ID, SECRET_KEY, APP_ID, SIGN_NAME, templates).start()
    return _server


def id_of(kind: str) -> str:
    """The TemplateId the approved file gives `kind`."""
    return approved()["templates"][kind]["id"]


def overrides(fake: FakeTencentSms, tmp_path: Path) -> dict:
    """Settings for SMS through Tencent (the fake), calls still through Twilio (the Twilio fake)."""
    path = tmp_path / "tencent_templates.json"
    path.write_text(json.dumps(approved(), ensure_ascii=False), encoding="utf-8")
    return {"sms_provider": "tencent", "voice_provider": "twilio", "tencent_secret_id": SECRET_ID,
            "tencent_secret_key": SECRET_KEY, "tencent_sms_app_id": APP_ID, "tencent_sms_sign": SIGN_NAME,
            "tencent_templates": str(path), "tencent_sms_endpoint": fake.endpoint, "tencent_timeout_seconds": 1.0,
            "tencent_callback_token": CALLBACK_TOKEN}


@pytest.fixture(name="fake_tencent")
def tencent_fake() -> FakeTencentSms:
    """The Tencent Cloud SMS fake, emptied."""
    fake = fake_server()
    fake.reset()
    return fake


@pytest.fixture(name="settings")
def tencent_settings(settings, fake_tencent, tmp_path):
    """SMS through Tencent (the fake); calls through Twilio."""
    return settings.with_overrides(**overrides(fake_tencent, tmp_path))


def poster(client, environ: dict | None = None) -> Poster:
    """Tencent's callback, made through the Flask test client: (path, body) -> (status, answer)."""
    def post(url: str, body: bytes) -> tuple[int, bytes]:
        resp = client.post(url, data=body, content_type="application/json", environ_base=environ or {})
        return resp.status_code, resp.get_data()
    return post


def reply_url(token: str = CALLBACK_TOKEN) -> str:
    """The reply callback URL (短信回复, what goes into Tencent's console)."""
    return f"/tencent/{token}/sms-reply"


def status_url(token: str = CALLBACK_TOKEN) -> str:
    """The status callback URL (短信下发状态)."""
    return f"/tencent/{token}/sms-status"
