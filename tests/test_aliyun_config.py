"""SMS_PROVIDER and VOICE_PROVIDER (each by default PHONE_PROVIDER), the ALIYUN_* settings, and the list of
templates to submit for approval."""
from __future__ import annotations

import pytest

from dispatch.providers import LocalOutbox, SplitProvider, build_provider
from dispatch.providers.aliyun import AliyunSms, split_endpoint
from dispatch.providers.aliyun_voice import AliyunVoice
from dispatch.providers.twilio import TwilioProvider
from hotline.config import load_settings

ALIYUN = {"ALIYUN_ACCESS_KEY_ID": "LTAI5tExample", "ALIYUN_ACCESS_KEY_SECRET": "s3cret",
          "ALIYUN_SIGN_NAME": "巴林左旗民政局"}


def _settings(tmp_path, **env):
    return load_settings({"INSTANCE_PATH": str(tmp_path), **env})


def test_phone_provider_is_the_default_of_both_sms_and_voice(tmp_path):
    chosen = _settings(tmp_path, PHONE_PROVIDER="local", TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t")
    assert (chosen.sms_provider_name, chosen.voice_provider_name) == ("local", "local") and chosen.local_mode


def test_sms_on_aliyun_with_calls_on_twilio_is_one_split_provider(tmp_path):
    settings = _settings(tmp_path, SMS_PROVIDER=" Aliyun ", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                         TWILIO_AUTH_TOKEN="t", **ALIYUN)
    provider = build_provider(settings)
    assert isinstance(provider, SplitProvider) and not settings.local_mode
    assert isinstance(provider.sms, AliyunSms) and isinstance(provider.voice, TwilioProvider)


def test_aliyun_sms_with_local_calls_is_not_local_mode(tmp_path):
    settings = _settings(tmp_path, SMS_PROVIDER="aliyun", **ALIYUN)
    provider = build_provider(settings)
    assert isinstance(provider.voice, LocalOutbox) and not provider.local and not settings.local_mode


def test_aliyun_for_both_is_its_sms_adapter_and_its_voice_adapter(tmp_path):
    provider = build_provider(_settings(tmp_path, PHONE_PROVIDER="aliyun", **ALIYUN))
    assert isinstance(provider, SplitProvider) and not provider.local
    assert isinstance(provider.sms, AliyunSms) and isinstance(provider.voice, AliyunVoice)


def test_calls_on_aliyun_with_sms_on_twilio_is_one_split_provider(tmp_path):
    settings = _settings(tmp_path, PHONE_PROVIDER="twilio", VOICE_PROVIDER="aliyun", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                         TWILIO_AUTH_TOKEN="t", ALIYUN_ACCESS_KEY_ID="LTAI5tExample", ALIYUN_ACCESS_KEY_SECRET="s")
    provider = build_provider(settings)
    assert isinstance(provider, SplitProvider)
    assert isinstance(provider.sms, TwilioProvider) and isinstance(provider.voice, AliyunVoice)


def test_calls_on_aliyun_without_its_keys_stop_the_start(tmp_path):
    with pytest.raises(ValueError, match="VOICE_PROVIDER=aliyun needs ALIYUN_ACCESS_KEY_ID"):
        build_provider(_settings(tmp_path, VOICE_PROVIDER="aliyun"))


def test_aliyun_without_its_keys_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="ALIYUN_ACCESS_KEY_ID"):
        build_provider(_settings(tmp_path, SMS_PROVIDER="aliyun"))


def test_an_unknown_sms_provider_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="SMS_PROVIDER"):
        build_provider(_settings(tmp_path, SMS_PROVIDER="nonesuch"))


def test_the_aliyun_settings_are_read_from_the_environment(tmp_path):
    settings = _settings(tmp_path, ALIYUN_REGION="cn-huhehaote", ALIYUN_TEMPLATES="/etc/hotline/templates.json",
                         ALIYUN_SMS_ENDPOINT="http://127.0.0.1:9000", ALIYUN_PUSH_TOKEN="tok",
                         ALIYUN_PUSH_ALLOW="100.100.0.0/16", **ALIYUN)
    assert (settings.aliyun_region, settings.aliyun_templates, settings.aliyun_push_token,
            settings.aliyun_push_allow) == ("cn-huhehaote", "/etc/hotline/templates.json", "tok", "100.100.0.0/16")


def test_the_endpoint_may_name_its_protocol_for_a_fake_and_defaults_to_https():
    assert split_endpoint("http://127.0.0.1:9000") == ("http", "127.0.0.1:9000")
    assert split_endpoint("dysmsapi.aliyuncs.com") == ("https", "dysmsapi.aliyuncs.com")
    assert split_endpoint("") == ("https", "")


def test_the_template_command_lists_every_kind_and_the_push_urls(runner):
    out = runner.invoke(args=["aliyun-templates"]).output
    assert "派单${code}${category}:${address},${name}${phone}。回1接单,2拒绝" in out
    assert "case_alert" in out and "/aliyun/<ALIYUN_PUSH_TOKEN>/sms-up" in out and "/sms-report" in out
    assert "not approved yet" in out  # the shipped file has no TemplateCode: nothing is approved by default


def test_the_template_command_lists_the_voice_templates_and_the_voice_report_url(runner):
    out = runner.invoke(args=["aliyun-templates"]).output
    assert "arrival_call" in out and "服务人员到了吗？到了请按1，没有到请按2。" in out
    assert "menu satisfaction\t1=satisfaction_thanks" in out and "/aliyun/<ALIYUN_PUSH_TOKEN>/voice-report" in out


def test_only_the_alibaba_adapter_imports_the_alibaba_sdk():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    importers = {str(path.relative_to(root)) for folder in ("dispatch", "hotline", "models", "ivr_flows")
                 for path in (root / folder).rglob("*.py")
                 if re.search(r"^\s*(from|import) (alibabacloud|darabonba)", path.read_text(encoding="utf-8"), re.M)}
    assert importers == {"dispatch/providers/aliyun.py", "dispatch/providers/aliyun_voice.py"}
    voice = {path for path in importers
             if re.search(r"^\s*from alibabacloud_dyvmsapi", (root / path).read_text(encoding="utf-8"), re.M)}
    assert voice == {"dispatch/providers/aliyun_voice.py"}
