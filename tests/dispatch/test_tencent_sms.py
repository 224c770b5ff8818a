"""SMS through Tencent Cloud: approved templates with positional parameters, SessionContext = the outbox key,
Tencent's error codes, and no blind resend after a timeout; checked at the HTTP edge by a fake that verifies the
TC3-HMAC-SHA256 signature."""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from dispatch import deferred
from dispatch.delivery import account_empty_since
from dispatch.outbox import deliver, queue_message
from dispatch.providers import Outgoing, ProviderError, build_provider
from dispatch.providers.tencent import TencentSms
from dispatch.providers.tencent_templates import load_templates
from dispatch.receipt_check import check_receipt, overdue_receipts
from dispatch.texts import ZH, render
from models import Message, OfferAttempt, utcnow
from tests import people
from tests.dispatch.test_aliyun_sms import NOT_SMS
from tests.orders import call_in, only_order
from tests.tencent_fake import signature_of
from tests.tencent_helpers import APP_ID, SECRET_ID, SECRET_KEY, SIGN_NAME, id_of, tencent_fake, tencent_settings  # noqa: F401 (fixtures: fake_tencent, settings)

T1, T2 = "+8613800000001", "+8613800000002"


def _send(db, settings, key: str, body: str, to: str = T1) -> Message:
    row = queue_message(db, key, to, body)
    db.commit()
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    return db.get(Message, row.id)


def _attempt(db, settings, key: str, body: str) -> Message:
    """Queue a row and make one attempt that is expected to fail transiently; the row as it stands then."""
    row = queue_message(db, key, T1, body)
    db.commit()
    with pytest.raises(ProviderError):
        deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    return db.get(Message, row.id)


def test_an_sms_goes_out_as_its_approved_template_with_positional_parameters(app, db, settings, fake_tencent):
    row = _send(db, settings, "ack:1", render("zh-CN", "case_alert", code="C123", status="新", phone="13900000000"))
    [sent] = fake_tencent.messages
    assert (sent["phone"], sent["template_id"]) == (T1, id_of("case_alert"))
    assert sent["params"] == ["C123", "新", "13900000000", "C123"]  # the code fills positions 1 and 4
    assert sent["content"] == f"【{SIGN_NAME}】" + ZH["case_alert"].format(code="C123", status="新",
                                                                          phone="13900000000")
    assert (row.status, row.provider_sid) == ("sent", sent["serial"])


def test_the_session_context_is_the_outbox_rows_key(app, db, settings, fake_tencent):
    _send(db, settings, "sla-reminder:42", render("zh-CN", "sla_reminder", code="123456", minutes=15))
    assert fake_tencent.messages[0]["session_context"] == "sla-reminder:42"


def test_a_text_not_rendered_from_a_kind_is_not_sent_and_fails_at_error(app, db, settings, fake_tencent, caplog):
    with caplog.at_level(logging.ERROR, logger="dispatch.providers.tencent"):
        row = _send(db, settings, "free:1", "随便写的短信")
    assert fake_tencent.messages == [] and row.status == "failed" and "no template" in row.error
    assert "no approved Tencent template" in caplog.text


def test_a_request_signed_with_another_secret_is_refused_by_the_fake(app, settings, fake_tencent):
    forged = TencentSms(SECRET_ID, "not-the-secret", "ap-guangzhou", APP_ID, SIGN_NAME,
                        load_templates(settings.tencent_templates), fake_tencent.endpoint, 2)
    with pytest.raises(ProviderError) as raised:
        forged.send_sms(T1, "", about=Outgoing(key="k:forged", kind="taken", params={"code": "123456"}))
    assert raised.value.permanent and fake_tencent.refused == ["AuthFailure.SignatureFailure"]
    assert fake_tencent.messages == []


def test_the_fake_recomputes_the_published_signature_and_refuses_a_changed_body(fake_tencent):
    body = json.dumps({"PhoneNumber": T1, "SmsSdkAppId": APP_ID, "BeginTime": 0, "EndTime": 1, "Offset": 0,
                       "Limit": 10}).encode()
    headers = _hand_signed(fake_tencent, "PullSmsSendStatusByPhoneNumber", body)
    assert "Error" not in requests.post(fake_tencent.endpoint + "/", data=body, headers=headers).json()["Response"]
    tampered = requests.post(fake_tencent.endpoint + "/", data=body.replace(b"0001", b"0002"), headers=headers)
    assert tampered.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_a_signature_older_than_five_minutes_is_refused(fake_tencent):
    body = b'{"Limit": 10}'
    headers = _hand_signed(fake_tencent, "PullSmsSendStatusByPhoneNumber", body, int(time.time()) - 400)
    answer = requests.post(fake_tencent.endpoint + "/", data=body, headers=headers).json()
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("code", ["FailedOperation.TemplateIncorrectOrUnapproved",
                                  "FailedOperation.SignatureIncorrectOrUnapproved",
                                  "FailedOperation.PhoneNumberInBlacklist",
                                  "InvalidParameterValue.TemplateParameterLengthLimit"])
def test_template_signature_and_number_errors_fail_the_row_for_good(app, db, settings, fake_tencent, code):
    fake_tencent.fail_next(code)
    row = _send(db, settings, f"k:{code}", render("zh-CN", "taken", code="123456"))
    assert row.status == "failed" and code in row.error and fake_tencent.messages == []


def test_a_number_tencent_cannot_send_to_is_refused_by_the_fake_itself(app, db, settings, fake_tencent):
    row = _send(db, settings, "k:landline", render("zh-CN", "taken", code="123456"), to="+864768223344")
    assert row.status == "failed" and "InvalidParameterValue.IncorrectPhoneNumber" in row.error


def test_a_parameter_longer_than_the_account_allows_fails_the_row(app, db, settings, fake_tencent):
    fake_tencent.max_param_length = 6
    row = _send(db, settings, "k:long", render("zh-CN", "taken", code="1234567"))
    assert row.status == "failed" and "TemplateParameterLengthLimit" in row.error


@pytest.mark.parametrize("code", ["LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberDailyLimit",
                                  "InternalError.OtherError"])
def test_frequency_limits_and_tencents_own_faults_are_retried_later(app, db, settings, fake_tencent, code):
    fake_tencent.answer_next(code)
    row = _attempt(db, settings, f"k:{code}", render("zh-CN", "taken", code="123456"))
    assert row.status == "queued" and code in row.error
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert len(fake_tencent.messages) == 1 and db.get(Message, row.id).status == "sent"


def test_an_empty_sms_package_fails_the_row_says_so_at_error_and_raises_the_banner(app, db, settings, fake_tencent,
                                                                                 caplog):
    fake_tencent.balance = 0
    with caplog.at_level(logging.ERROR, logger="dispatch.providers.tencent"):
        row = _send(db, settings, "k:empty", render("zh-CN", "taken", code="123456"))
    assert row.status == "failed" and "FailedOperation.InsufficientBalanceInSmsPackage" in row.error
    assert "buy an SMS package" in caplog.text
    assert account_empty_since(db) is not None


def test_after_a_timeout_the_row_is_unknown_and_not_sent_again_when_it_went_out(app, db, settings, fake_tencent):
    fake_tencent.hang_next(2)  # accepted, answered after the 1 s timeout
    row = _attempt(db, settings, "k:slow", render("zh-CN", "taken", code="123456"))
    assert row.status == "unknown"
    deliver(db, row.id, build_provider(settings), settings.sender)
    db.expire_all()
    [sent] = fake_tencent.messages
    assert db.get(Message, row.id).status == "sent" and db.get(Message, row.id).provider_sid == sent["serial"]
    assert [r["action"] for r in fake_tencent.requests] == ["SendSms", "PullSmsSendStatusByPhoneNumber"]


def test_tencents_own_send_timeout_leaves_the_row_unknown(app, db, settings, fake_tencent):
    fake_tencent.fail_next("InternalError.Timeout")
    row = _attempt(db, settings, "k:tc-timeout", render("zh-CN", "taken", code="123456"))
    assert row.status == "unknown"


def test_a_retry_sends_when_the_earlier_attempt_did_not_go_out(app, db, settings, fake_tencent):
    fake_tencent.fail_next("InternalError.OtherError")
    row = _attempt(db, settings, "k:again", render("zh-CN", "taken", code="123456"))
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert [r["action"] for r in fake_tencent.requests] == ["SendSms", "PullSmsSendStatusByPhoneNumber", "SendSms"]
    assert len(fake_tencent.messages) == 1


def test_another_rows_message_to_the_same_number_does_not_stop_a_retry(app, db, settings, fake_tencent):
    _send(db, settings, "k:other", render("zh-CN", "taken", code="111111"))
    fake_tencent.fail_next("InternalError.OtherError")
    row = _attempt(db, settings, "k:mine", render("zh-CN", "taken", code="222222"))
    deliver(db, row.id, build_provider(settings), settings.sender)
    assert [m["session_context"] for m in fake_tencent.messages] == ["k:other", "k:mine"]


def test_an_offer_to_a_rate_limited_technician_goes_to_the_next_at_once(tw, db, settings, fake_tencent, run_worker):
    people.resident(db)
    people.technician(db, "张师傅", T1, km_north=0.5)
    people.technician(db, "李师傅", T2, km_north=1.5)
    fake_tencent.answer_next("LimitExceeded.PhoneNumberOneHourLimit")
    call_in(tw, people.RESIDENT_MOBILE)
    run_worker()
    order = only_order(db)
    assert [m["phone"] for m in fake_tencent.messages] == [T2]
    assert sorted(a.status for a in db.scalars(select(OfferAttempt).where(OfferAttempt.order_id == order.id))) \
        == ["failed", "pending"]


def test_a_receipt_is_looked_up_by_the_session_context(app, db, settings, fake_tencent):
    row = _send(db, settings, "k:look", render("zh-CN", "taken", code="123456"))
    fake_tencent.fail_delivery(row.provider_sid, "MK:0005")
    receipt = build_provider(settings).look_up_receipt(T1, "k:look", row.sent_at)
    assert (receipt.sid, receipt.key, receipt.delivered, receipt.error) == (row.provider_sid, "k:look", False,
                                                                           "MK:0005")


def test_a_receipt_the_carrier_has_not_given_yet_is_not_known(app, db, settings, fake_tencent):
    row = _send(db, settings, "k:wait", render("zh-CN", "taken", code="123456"))
    fake_tencent.await_carrier(row.provider_sid)
    assert build_provider(settings).look_up_receipt(T1, "k:wait", row.sent_at) is None


def test_an_sms_with_no_status_callback_is_found_by_the_reconciler_and_settled_by_a_pull(app, db, settings,
                                                                                      fake_tencent):
    row = _send(db, settings, "k:lost", render("zh-CN", "taken", code="123456"))
    fake_tencent.fail_delivery(row.provider_sid, "MK:0005")
    later = utcnow() + timedelta(minutes=11)  # past ALIYUN_RECEIPT_MINUTES, which paces every provider's look-ups
    assert overdue_receipts(db, later, later, settings) == [deferred.receipt_check(row.id)]
    check_receipt(db, row.id, build_provider(settings), settings, later)
    db.commit()
    db.expire_all()
    assert (db.get(Message, row.id).status, db.get(Message, row.id).error) == ("failed", "receipt: MK:0005")


def test_every_template_text_is_the_text_the_hotline_sends():
    for kind, template in load_templates().items():
        assert template.named_text() == ZH[kind], kind


def test_every_sms_kind_of_the_catalogue_has_a_template():
    assert {k for k, v in ZH.items() if isinstance(v, str)} - NOT_SMS == set(load_templates())


def test_a_template_whose_positions_do_not_number_its_params_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"templates": {"taken": {"id": "1", "params": ["code"], "text": "单{2}"}}}))
    with pytest.raises(ValueError, match="positions"):
        load_templates(str(path))


def _hand_signed(fake, action: str, body: bytes, timestamp: int | None = None) -> dict:
    """A request signed by hand from Tencent's published TC3-HMAC-SHA256 algorithm (not by the SDK)."""
    from datetime import datetime, timezone

    timestamp = timestamp or int(time.time())
    host = fake.endpoint.removeprefix("http://")
    headers = {"content-type": "application/json", "host": host}
    signature = signature_of(SECRET_KEY, timestamp, "POST", "/", "", headers, ["content-type", "host"], body)
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    return {"Content-Type": "application/json", "Host": host, "X-TC-Action": action, "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp), "X-TC-Region": "ap-guangzhou",
            "Authorization": f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, "
                             f"SignedHeaders=content-type;host, Signature={signature}"}
