"""Settings are read once from the environment; bad values stop the start with a clear message."""
from __future__ import annotations

import pytest

from hotline.config import child_environment, load_settings


def _load(tmp_path, **env):
    return load_settings({"INSTANCE_PATH": str(tmp_path), **env})


def test_quiet_hours_default_to_the_night(tmp_path):
    assert _load(tmp_path).satisfaction_quiet_hours == "21-8"


@pytest.mark.parametrize("raw, expected", [("22-7", "22-7"), (" 09-12 ", "9-12"), ("off", ""), ("OFF", ""),
                                           ("none", "")])
def test_quiet_hours_are_read_or_turned_off(tmp_path, raw, expected):
    assert _load(tmp_path, SATISFACTION_QUIET_HOURS=raw).satisfaction_quiet_hours == expected


@pytest.mark.parametrize("raw", ["21", "21-25", "night", "21-8-3", "-1-8"])
def test_bad_quiet_hours_stop_the_start(tmp_path, raw):
    with pytest.raises(ValueError, match="SATISFACTION_QUIET_HOURS"):
        _load(tmp_path, SATISFACTION_QUIET_HOURS=raw)


def test_the_softphone_is_on_only_in_local_mode_unless_told(tmp_path):
    assert _load(tmp_path).softphone_enabled
    twilio = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "token"}
    assert not _load(tmp_path, **twilio).softphone_enabled
    assert _load(tmp_path, SOFTPHONE="on", **twilio).softphone_enabled
    assert not _load(tmp_path, SOFTPHONE="off").softphone_enabled


def test_sessions_last_30_idle_minutes_and_12_hours_and_no_proxy_is_trusted_by_default(tmp_path):
    settings = _load(tmp_path)
    assert (settings.session_idle_minutes, settings.session_max_hours, settings.trusted_proxy_count) == (30, 12, 0)


def test_session_lifetimes_and_proxy_count_are_read(tmp_path):
    settings = _load(tmp_path, SESSION_IDLE_MINUTES="10", SESSION_MAX_HOURS="8", TRUSTED_PROXY_COUNT="1")
    assert (settings.session_idle_minutes, settings.session_max_hours, settings.trusted_proxy_count) == (10, 8, 1)


@pytest.mark.parametrize("var, raw", [("SESSION_IDLE_MINUTES", "0"), ("SESSION_MAX_HOURS", "-1"),
                                      ("TRUSTED_PROXY_COUNT", "-1"), ("SESSION_IDLE_MINUTES", "half an hour")])
def test_a_bad_session_or_proxy_setting_stops_the_start_naming_it(tmp_path, var, raw):
    with pytest.raises(ValueError, match=var):
        _load(tmp_path, **{var: raw})


def test_both_lines_on_one_number_is_off_by_default_and_read_as_one_free_digit(tmp_path):
    assert _load(tmp_path).child_line_key == ""
    assert _load(tmp_path, HOTLINE_CHILD_LINE_KEY=" 9 ").child_line_key == "9"
    assert _load(tmp_path, HOTLINE_CHILD_LINE_KEY="off").child_line_key == ""


@pytest.mark.parametrize("raw, why", [("1", "already a key of the elderly menu"), ("0", "already a key"),
                                      ("*", "one digit"), ("99", "one digit"), ("nine", "one digit")])
def test_a_child_line_key_the_elderly_menu_uses_or_not_one_digit_stops_the_start(tmp_path, raw, why):
    with pytest.raises(ValueError, match=f"HOTLINE_CHILD_LINE_KEY: .*{why}"):
        _load(tmp_path, HOTLINE_CHILD_LINE_KEY=raw)


def test_the_child_number_being_the_elderly_number_stops_the_start_pointing_to_the_key(tmp_path):
    same = {"HOTLINE_ELDERLY_NUMBER": "+864768012349", "HOTLINE_CHILD_NUMBER": "+864768012349"}
    with pytest.raises(ValueError, match="HOTLINE_CHILD_LINE_KEY"):
        _load(tmp_path, **same)


def test_the_alibaba_voice_endpoint_and_show_number_are_read_and_default_to_none(tmp_path):
    assert (_load(tmp_path).aliyun_voice_endpoint, _load(tmp_path).aliyun_voice_show_number) == ("", "")
    settings = _load(tmp_path, ALIYUN_VOICE_ENDPOINT="http://127.0.0.1:9001", ALIYUN_VOICE_SHOW_NUMBER=" 04768000001 ")
    assert (settings.aliyun_voice_endpoint, settings.aliyun_voice_show_number) == ("http://127.0.0.1:9001",
                                                                                   "04768000001")


def test_the_call_budget_defaults_to_alibabas_per_number_limits_and_is_kept_in_order(tmp_path):
    assert _load(tmp_path).call_budget == "1/60,5/3600,20/86400"
    assert _load(tmp_path, CALL_BUDGET=" 3/3600, 1/120 ").call_budget == "1/120,3/3600"
    assert _load(tmp_path, CALL_BUDGET="OFF").call_budget == "off"


def test_a_bad_call_budget_stops_the_start_naming_call_budget(tmp_path):
    with pytest.raises(ValueError, match="^CALL_BUDGET: CALL_BUDGET must look like 1/60,5/3600,20/86400"):
        _load(tmp_path, CALL_BUDGET="20 a day")


def test_a_child_environment_keeps_the_machines_variables_and_drops_every_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("LANG", "C.UTF-8")
    for var in ("DATABASE_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "SMS_PROVIDER", "TENCENT_SECRET_ID",
                "ALIYUN_ACCESS_KEY_SECRET"):
        monkeypatch.setenv(var, "from-this-shell")
    env = child_environment()
    assert env["LANG"] == "C.UTF-8"
    assert "from-this-shell" not in env.values()
    plain = _load(tmp_path)
    assert not {var for var in env if _load(tmp_path, **{var: env[var]}) != plain}
