"""SMS_PROVIDER=tencent, the TENCENT_* settings, and the list of Tencent templates to submit for approval."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.providers import SplitProvider, build_provider
from dispatch.providers.tencent import TencentSms
from dispatch.providers.twilio import TwilioProvider
from hotline.config import load_settings

TENCENT = {"TENCENT_SECRET_ID": "AKIDexample", "TENCENT_SECRET_KEY": "s3cret", "TENCENT_SMS_APP_ID": "1400006666",
           "TENCENT_SMS_SIGN": "巴林左旗民政局"}


def _settings(tmp_path, **env):
    return load_settings({"INSTANCE_PATH": str(tmp_path), **env})


def test_sms_on_tencent_with_calls_on_twilio_is_one_split_provider(tmp_path):
    settings = _settings(tmp_path, SMS_PROVIDER="Tencent", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                         TWILIO_AUTH_TOKEN="t", **TENCENT)
    provider = build_provider(settings)
    assert isinstance(provider, SplitProvider) and not settings.local_mode
    assert isinstance(provider.sms, TencentSms) and isinstance(provider.voice, TwilioProvider)


def test_tencent_for_calls_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="VOICE_PROVIDER"):
        build_provider(_settings(tmp_path, PHONE_PROVIDER="tencent", **TENCENT))


@pytest.mark.parametrize("missing", sorted(TENCENT))
def test_tencent_without_its_keys_is_a_configuration_error(tmp_path, missing):
    env = {k: v for k, v in TENCENT.items() if k != missing}
    with pytest.raises(ValueError, match=missing):
        build_provider(_settings(tmp_path, SMS_PROVIDER="tencent", **env))


def test_the_tencent_settings_are_read_from_the_environment(tmp_path):
    settings = _settings(tmp_path, TENCENT_REGION="ap-beijing", TENCENT_TEMPLATES="/etc/hotline/tc.json",
                         TENCENT_SMS_ENDPOINT="http://127.0.0.1:9000", TENCENT_TIMEOUT_SECONDS="3.5",
                         TENCENT_CALLBACK_TOKEN="tok", TENCENT_CALLBACK_ALLOW="10.0.0.0/8", **TENCENT)
    assert (settings.tencent_secret_id, settings.tencent_secret_key, settings.tencent_sms_app_id,
            settings.tencent_sms_sign) == ("AKIDexample", "s3cret", "1400006666", "巴林左旗民政局")
    assert (settings.tencent_region, settings.tencent_templates, settings.tencent_sms_endpoint,
            settings.tencent_timeout_seconds, settings.tencent_callback_token, settings.tencent_callback_allow) \
        == ("ap-beijing", "/etc/hotline/tc.json", "http://127.0.0.1:9000", 3.5, "tok", "10.0.0.0/8")


def test_the_tencent_defaults(tmp_path):
    settings = _settings(tmp_path)
    assert (settings.tencent_region, settings.tencent_templates, settings.tencent_callback_token) == \
        ("ap-guangzhou", "", "")


def test_the_template_command_lists_every_kind_with_its_positions_and_the_callback_urls(runner):
    out = runner.invoke(args=["sms-templates", "--provider", "tencent"]).output
    assert "派单{1}{2}:{3},{4}{5}。回1接单,2拒绝" in out and "variables: code, category, address, name, phone" in out
    assert "/tencent/<TENCENT_CALLBACK_TOKEN>/sms-reply" in out
    assert "/tencent/<TENCENT_CALLBACK_TOKEN>/sms-status" in out
    assert "not approved yet" in out  # the shipped file has no template id: nothing is approved by default


def test_the_template_command_still_lists_alibabas(runner):
    out = runner.invoke(args=["sms-templates", "--provider", "aliyun"]).output
    assert "派单${code}${category}" in out and "/aliyun/<ALIYUN_PUSH_TOKEN>/sms-up" in out


def test_only_the_tencent_adapter_imports_the_tencent_sdk():
    root = Path(__file__).resolve().parent.parent
    importers = {str(path.relative_to(root)) for folder in ("dispatch", "hotline", "models", "ivr_flows")
                 for path in (root / folder).rglob("*.py")
                 if re.search(r"^\s*(from|import) tencentcloud", path.read_text(encoding="utf-8"), re.M)}
    assert importers == {"dispatch/providers/tencent.py"}
