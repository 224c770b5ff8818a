"""SMS through Alibaba Cloud: approved templates with named parameters, OutId = the outbox key, Alibaba's error
codes, and no blind resend after a timeout; checked at the HTTP edge by a fake that verifies the signature."""
from __future__ import annotations

import json
import logging
import string

import pytest
import requests
from sqlalchemy import select

from dispatch.offers import offer_text
from dispatch.outbox import deliver, queue_message
from dispatch.providers import ProviderError, build_provider
from dispatch.providers.aliyun import AliyunSms
from dispatch.providers.aliyun_templates import PARAM, load_templates
from dispatch.texts import EN, ZH, render
from models import Message, OfferAttempt, Order, Resident
from tests import people
from tests.aliyun_fake import signature_of
from tests.aliyun_helpers import AK_ID, AK_SECRET, SIGN_NAME, aliyun_fake, aliyun_settings, code_of  # noqa: F401 (fixtures: fake_aliyun, settings)
from tests.orders import call_in, only_order

T1, T2 = "+8613800000001", "+8613800000002"


def _send(db, settings, key: str, body: str, to: str = T1) -> Message:
    row = queue_message(db, key, to, body)
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    return db.get(Message, row.id)


def test_an_sms_goes_out_as_its_approved_template_with_named_parameters(app, db, settings, fake_aliyun):
    row = _send(db, settings, "notify:accepted:7", render("zh-CN", "taken", code="123456"))
    [sent] = fake_aliyun.messages
    assert (sent["phone"], sent["template_code"], sent["params"]) == ("13800000001", code_of("taken"),
                                                                      {"code": "123456"})
    assert sent["content"] == f"【{SIGN_NAME}】单123456已由他人接单,谢谢。"
    assert (row.status, row.provider_sid) == ("sent", sent["biz_id"])


def test_the_out_id_is_the_outbox_rows_key(app, db, settings, fake_aliyun):
    _send(db, settings, "sla-reminder:42", render("zh-CN", "sla_reminder", code="123456", minutes=15))
    assert fake_aliyun.messages[0]["out_id"] == "sla-reminder:42"


def test_the_outbox_row_keeps_the_kind_and_parameters_beside_the_text(app, db, settings):
    row = queue_message(db, "cancelled:3", T1, render("zh-CN", "cancelled", code="654321"))
    db.commit()
    assert (row.template, json.loads(row.template_params)) == ("cancelled", {"code": "654321"})


def test_a_text_not_rendered_from_a_kind_is_not_sent_and_fails_at_error(app, db, settings, fake_aliyun, caplog):
    with caplog.at_level(logging.ERROR, logger="dispatch.providers.aliyun"):
        row = _send(db, settings, "free:1", "随便写的短信")
    assert fake_aliyun.messages == [] and row.status == "failed" and "no template" in row.error
    assert "no approved Alibaba template" in caplog.text


def test_a_request_signed_with_another_secret_is_refused_by_the_fake(app, settings, fake_aliyun):
    forged = AliyunSms(AK_ID, "not-the-secret", "cn-hangzhou", SIGN_NAME,
                       load_templates(settings.aliyun_templates), fake_aliyun.endpoint, 2)
    with pytest.raises(ProviderError) as raised:
        forged.send_sms(T1, "", about=_about("taken", code="123456"))
    assert raised.value.permanent and fake_aliyun.refused == ["SignatureDoesNotMatch"]
    assert fake_aliyun.messages == []


def test_the_fake_recomputes_the_published_v3_signature_and_refuses_a_changed_query(fake_aliyun):
    url, headers = _hand_signed_query(fake_aliyun, "PhoneNumber=13800000001&SendDate=20261202")
    assert requests.post(url, headers=headers).json()["Code"] == "OK"
    url, headers = _hand_signed_query(fake_aliyun, "PhoneNumber=13800000001&SendDate=20261202")
    tampered = requests.post(url.replace("13800000001", "13800000002"), headers=headers)
    assert tampered.status_code == 400 and tampered.json()["Code"] == "SignatureDoesNotMatch"


def test_a_signature_nonce_is_accepted_once(fake_aliyun):
    url, headers = _hand_signed_query(fake_aliyun, "PhoneNumber=13800000001&SendDate=20261202")
    assert requests.post(url, headers=headers).status_code == 200
    assert requests.post(url, headers=headers).json()["Code"] == "SignatureNonceUsed"


@pytest.mark.parametrize("code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL",
                                  "isv.SMS_SIGNATURE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS"])
def test_number_template_and_signature_errors_fail_the_row_for_good(app, db, settings, fake_aliyun, code):
    fake_aliyun.answer_next(code)
    row = _send(db, settings, f"k:{code}", render("zh-CN", "taken", code="123456"))
    assert row.status == "failed" and code in row.error


def test_a_number_alibaba_cannot_send_to_is_refused_by_the_fake_itself(app, db, settings, fake_aliyun):
    row = _send(db, settings, "k:landline", render("zh-CN", "taken", code="123456"), to="+864768223344")
    assert row.status == "failed" and "isv.MOBILE_NUMBER_ILLEGAL" in row.error


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR"])
def test_flow_control_and_alibabas_own_faults_are_retried_later(app, db, settings, fake_aliyun, code):
    fake_aliyun.answer_next(code)
    row = queue_message(db, f"k:{code}", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    with pytest.raises(ProviderError):
        deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    assert db.get(Message, row.id).status == "queued"
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert len(fake_aliyun.messages) == 1 and db.get(Message, row.id).status == "sent"


def test_an_empty_account_fails_the_row_and_says_so_at_error(app, db, settings, fake_aliyun, caplog):
    fake_aliyun.balance = 0
    with caplog.at_level(logging.ERROR, logger="dispatch.providers.aliyun"):
        row = _send(db, settings, "k:empty", render("zh-CN", "taken", code="123456"))
    assert row.status == "failed" and "isv.AMOUNT_NOT_ENOUGH" in row.error
    assert "top up" in caplog.text


def test_after_a_timeout_the_row_is_unknown_and_not_sent_again_when_it_went_out(app, db, settings, fake_aliyun):
    fake_aliyun.hang_next(2)  # accepted, answered after the 1 s timeout
    row = queue_message(db, "k:slow", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    with pytest.raises(ProviderError):
        deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    assert db.get(Message, row.id).status == "unknown"
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    assert len(fake_aliyun.messages) == 1 and db.get(Message, row.id).status == "sent"
    assert [r["action"] for r in fake_aliyun.requests] == ["SendSms", "QuerySendDetails"]


def test_a_retry_sends_when_the_earlier_attempt_did_not_go_out(app, db, settings, fake_aliyun):
    fake_aliyun.answer_next("isp.SYSTEM_ERROR")
    row = queue_message(db, "k:again", T1, render("zh-CN", "taken", code="123456"))
    db.commit()
    with pytest.raises(ProviderError):
        deliver(db, row.id, build_provider(settings), settings.sender)
    deliver(db, row.id, build_provider(settings), settings.sender)
    # Today and yesterday (Beijing dates) asked first: nothing with this OutId went out, so it is sent.
    assert [r["action"] for r in fake_aliyun.requests] == ["SendSms", "QuerySendDetails", "QuerySendDetails",
                                                           "SendSms"]


def test_an_offer_to_a_rate_limited_technician_goes_to_the_next_at_once(tw, db, settings, fake_aliyun, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    fake_aliyun.answer_next("isv.BUSINESS_LIMIT_CONTROL")
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    assert [m["phone"] for m in fake_aliyun.messages] == ["13800000002"]
    assert sorted(a.status for a in db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order.id))) \
        == ["failed", "pending"]


@pytest.mark.parametrize("kind", ["offer", "offer_emergency", "assigned"])
def test_an_offer_with_the_signature_stays_within_one_sms_segment(db, kind):
    resident = Resident(name="欧阳秀英兰", address="内蒙古自治区赤峰市巴林左旗林东镇东城社区幸福家园小区12号楼3单元502")
    order = Order(code="123456", category="housekeeping", resident=resident, caller_phone="+864768223344")
    text = f"【{SIGN_NAME}】" + offer_text(order, "zh-CN", kind)
    assert len(text.encode("utf-16-le")) // 2 <= 70, text


def test_every_template_text_is_the_text_the_hotline_sends():
    templates = load_templates()
    for kind, template in templates.items():
        assert template.text.replace("${", "{") == ZH[kind], kind


# Texts of the catalogue that are never an SMS: spoken (calls), parts of other texts, timeline entries. A new
# text is either a template to submit or listed here: this test makes its author choose.
NOT_SMS = {"notify_resident_call", "notify_reassigned_call", "case_call", "case_call_ok", "police_call",
           "task_overdue_nobody", "intake_children", "intake_police_required", "intake_corrected", "police_event",
           "link_event", "unlink_event", "police_alert_event", "offer_skipped_event",
           "arrival_call", "pay_cash", "pay_ecny", "pay_subsidy_only", "pay_wechat_alipay", "payment_line"}


def test_every_sms_kind_of_the_catalogue_has_a_template():
    sms_kinds = {k for k, v in ZH.items() if isinstance(v, str)} - NOT_SMS
    assert sms_kinds == set(load_templates())


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_templates_parameters_are_exactly_the_placeholders_of_its_text():
    # The fake (like Alibaba) only checks the listed parameters: a placeholder left out of `params` would reach
    # Alibaba as a template variable with no value, which it refuses (isv.TEMPLATE_MISSING_PARAMETERS).
    for kind, template in load_templates().items():
        assert set(template.params) == set(PARAM.findall(template.text)) == _placeholders(ZH[kind]), kind
        assert len(template.params) == len(set(template.params)), kind


def test_the_english_text_of_every_template_kind_renders_every_parameter_alibaba_needs():
    # Alibaba sends the approved (Chinese) template whatever IVR_LANGUAGE is, with the rendered text's parameters:
    # an English text lacking one would fail that SMS for good.
    for kind, template in load_templates().items():
        assert set(template.params) <= _placeholders(EN[kind]), kind


def _about(kind: str, **params):
    from dispatch.providers import Outgoing

    return Outgoing(key=f"test:{kind}", kind=kind, params=params)


def _hand_signed_query(fake, query: str) -> tuple[str, dict]:
    """A QuerySendDetails request signed by hand from Alibaba's published V3 algorithm (not by the SDK)."""
    import secrets
    from datetime import datetime, timezone

    host = fake.endpoint.removeprefix("http://")
    headers = {"host": host, "x-acs-action": "QuerySendDetails", "x-acs-version": "2017-05-25",
               "x-acs-date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "x-acs-signature-nonce": secrets.token_hex(16),
               "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    signed = sorted(headers)
    signature = signature_of("POST", "/", query, headers, signed, b"", AK_SECRET)
    headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={AK_ID},SignedHeaders={';'.join(signed)}," \
                               f"Signature={signature}"
    return f"{fake.endpoint}/?{query}", headers
