"""The Alibaba Cloud SMS fake for tests: one server per run, its credentials, approved templates and push URLs.

A test module that sends SMS through Alibaba imports the two fixtures `aliyun_fake` (as `fake_aliyun`) and
`aliyun_settings` (as `settings`): `from tests.aliyun_helpers import aliyun_fake, aliyun_settings  # noqa: F401`.
One that places calls through Alibaba's voice service imports `voice_fake` (as `fake_voice`) and `voice_settings`
(as `settings`: SMS and calls on Alibaba).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.providers.aliyun_templates import DEFAULT_PATH
from tests.aliyun_fake import FakeAliyunSms, Poster
from tests.aliyun_voice_fake import FakeAliyunVoice

AK_ID, AK_SECRET, SIGN_NAME = "LTAI5tHotlineTest0001", "hotline-test-access-key-secret", "巴林左旗民政局"
PUSH_TOKEN = "push-token-0123456789abcdef"
SHOW_NUMBER = "04768000001"  # the number calls show (bought in the voice console)
_server: FakeAliyunSms | None = None
_voice_server: FakeAliyunVoice | None = None


def approved() -> dict:
    """The shipped template file with a TemplateCode for every kind, as if Alibaba had approved them all."""
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for i, raw in enumerate(data["templates"].values()):
        raw["code"] = f"SMS_4{i:08d}"
    for i, raw in enumerate(data["voice"]["templates"].values()):
        raw["code"] = f"TTS_5{i:08d}"
    return data


def voice_server() -> FakeAliyunVoice:
    """The run's voice fake (started on first use; reset it per test)."""
    global _voice_server
    if _voice_server is None:
        tts = {raw["code"]: (tuple(raw["params"]), raw["text"]) for raw in approved()["voice"]["templates"].values()}
        _voice_server = FakeAliyunVoice(AK_ID, AK_SECRET, tts, {SHOW_NUMBER}).start()
    return _voice_server


def tts_code_of(kind: str) -> str:
    """The TtsCode the approved file gives the voice kind `kind`."""
    return approved()["voice"]["templates"][kind]["code"]


def fake_server() -> FakeAliyunSms:
    """The run's fake (started on first use; reset it per test)."""
    global _server
    if _server is None:
        templates = {raw["code"]: (tuple(raw["params"]), raw["text"]) for raw in approved()["templates"].values()}
        _server = FakeAliyunSms(AK_ID, AK_SECRET, SIGN_NAME, templates).start()
    return _server


def code_of(kind: str) -> str:
    """The TemplateCode the approved file gives `kind`."""
    return approved()["templates"][kind]["code"]


def overrides(fake: FakeAliyunSms, tmp_path: Path) -> dict:
    """Settings for SMS through Alibaba (the fake), calls still through Twilio (the Twilio fake)."""
    path = tmp_path / "aliyun_templates.json"
    path.write_text(json.dumps(approved(), ensure_ascii=False), encoding="utf-8")
    return {"sms_provider": "aliyun", "voice_provider": "twilio", "aliyun_access_key_id": AK_ID,
            "aliyun_access_key_secret": AK_SECRET, "aliyun_sign_name": SIGN_NAME, "aliyun_templates": str(path),
            "aliyun_sms_endpoint": fake.endpoint, "aliyun_timeout_seconds": 1.0, "aliyun_push_token": PUSH_TOKEN}


def voice_overrides(voice: FakeAliyunVoice, sms: FakeAliyunSms, tmp_path: Path) -> dict:
    """Settings for SMS and calls through Alibaba (the two fakes), calls showing SHOW_NUMBER."""
    return {**overrides(sms, tmp_path), "voice_provider": "aliyun", "aliyun_voice_endpoint": voice.endpoint,
            "aliyun_voice_show_number": SHOW_NUMBER}


@pytest.fixture(name="fake_voice")
def voice_fake() -> FakeAliyunVoice:
    """The Alibaba Cloud voice fake, emptied."""
    fake = voice_server()
    fake.reset()
    return fake


@pytest.fixture(name="settings")
def voice_settings(settings, fake_voice, fake_aliyun, tmp_path):
    """SMS and calls through Alibaba (the fakes)."""
    return settings.with_overrides(**voice_overrides(fake_voice, fake_aliyun, tmp_path))


def voice_report_url(token: str = PUSH_TOKEN) -> str:
    """The VoiceReport push URL."""
    return f"/aliyun/{token}/voice-report"


@pytest.fixture(name="fake_aliyun")
def aliyun_fake() -> FakeAliyunSms:
    """The Alibaba Cloud SMS fake, emptied."""
    fake = fake_server()
    fake.reset()
    return fake


@pytest.fixture(name="settings")
def aliyun_settings(settings, fake_aliyun, tmp_path):
    """SMS through Alibaba (the fake); calls through Twilio."""
    return settings.with_overrides(**overrides(fake_aliyun, tmp_path))


def poster(client, environ: dict | None = None) -> Poster:
    """Alibaba's push, delivered through the Flask test client: (path, body) -> (status, answer)."""
    def post(url: str, body: bytes) -> tuple[int, bytes]:
        resp = client.post(url, data=body, content_type="application/json", environ_base=environ or {})
        return resp.status_code, resp.get_data()
    return post


def up_url(token: str = PUSH_TOKEN) -> str:
    """The SmsUp push URL (what goes into Alibaba's console)."""
    return f"/aliyun/{token}/sms-up"


def report_url(token: str = PUSH_TOKEN) -> str:
    """The SmsReport push URL."""
    return f"/aliyun/{token}/sms-report"
