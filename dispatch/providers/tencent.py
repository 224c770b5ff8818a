"""The Tencent Cloud SMS adapter (API 2021-01-11) of the sending side: SendSms through the official SDK.

The only module that imports the Tencent SDK. A message goes out as its approved template (TemplateId, the
parameters in their positions as TemplateParamSet) with the outbox row's key as SessionContext; the text itself
is never sent. SendSms is not idempotent: a retry (attempt 2 on: after a timeout, a transient error, or a worker
that died mid-send) first asks PullSmsSendStatusByPhoneNumber whether a message with that SessionContext reached
the carrier in the last two days, and sends again only if none did. Tencent lists a message there only once the
carrier has reported on it, so one sent seconds ago and not yet reported can still go out twice ("err toward
delivery", as with Alibaba and Twilio). `look_up_receipt` asks the same call what became of an SMS that got no
status callback. Errors are translated into ProviderError here.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from models.phone import mask

from .aliyun import split_endpoint
from .events import DeliveryReceipt
from .interface import CallScript, Outgoing, ProviderError, Sent
from .tencent_templates import PositionalTemplate, load_templates

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

log = logging.getLogger(__name__)
OK = "Ok"
# Tencent refuses more SMS to this number for now (its per-number frequency limits): an offer moves on.
RECIPIENT_LIMITED = {"LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit",
                     "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
                     "LimitExceeded.DeliveryFrequencyLimit"}
# The request may have been acted on although Tencent answered with an error (its own send timed out, or a
# gateway before it answered with an HTTP error: the SDK's ServerNetworkError).
MAYBE_SENT = {"InternalError.Timeout", "InternalError.SendAndRecvFail", "ServerNetworkError"}
# Codes that may clear by themselves: the limits above, the application's daily cap, Tencent's own faults.
TRANSIENT = RECIPIENT_LIMITED | MAYBE_SENT | {"LimitExceeded.AppDailyLimit", "LimitExceeded.AppMainlandChinaDailyLimit",
                                              "InternalError.OtherError", "InternalError.UnknownError",
                                              "InternalError.ParseBackendResponseFail", "InternalError",
                                              "RequestLimitExceeded"}
# The account cannot send at all until staff act: the SMS package is used up, or the account is in arrears.
ACCOUNT_EMPTY = {"FailedOperation.InsufficientBalanceInSmsPackage",
                 "UnauthorizedOperation.ServiceSuspendDueToArrears"}
LOOKBACK_SECONDS = 2 * 86400  # a retry looks this far back (Tencent keeps 7 days)
PULL_LIMIT = 100  # the most Tencent returns; its Offset is fixed at 0


class TencentSms:
    """Tencent Cloud's SMS API; SMS only."""

    local = False

    def __init__(self, secret_id: str, secret_key: str, region: str, app_id: str, sign_name: str,
                 templates: dict[str, PositionalTemplate], endpoint: str = "", timeout: float = 10.0):
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        protocol, host = split_endpoint(endpoint)
        # No retryer (the SDK's default): a retried SendSms could go out twice; the outbox retries instead.
        profile = ClientProfile(httpProfile=HttpProfile(protocol=protocol, endpoint=host or None, reqTimeout=timeout))
        self._client = SmsClient(Credential(secret_id, secret_key), region, profile)
        self._app_id, self._sign_name, self._templates = app_id, sign_name, templates

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Send one SMS as its approved template, SessionContext = the outbox key; a retry sends only if none went
        out."""
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        about = about or Outgoing()
        template = self._templates.get(about.kind)
        if template is None or not template.id:
            log.error("no approved Tencent template for SMS kind %r (%s): not sent", about.kind or "-", about.key)
            raise ProviderError(f"tencent: no template for kind {about.kind or '-'}", permanent=True)
        try:
            params = template.param_set(about.params)
        except KeyError as missing:
            raise ProviderError(f"tencent: kind {about.kind} lacks parameter {missing}", permanent=True) from None
        if about.attempt > 1 and about.key:
            earlier = self._went_out(to, about.key)
            if earlier is not None:
                log.info("SMS %s to %s went out on an earlier attempt: not sent again", about.key, mask(to))
                return earlier
        request = SendSmsRequest()
        request.from_json_string(json.dumps({
            "PhoneNumberSet": [to], "SmsSdkAppId": self._app_id, "TemplateId": template.id,
            "SignName": self._sign_name, "TemplateParamSet": params, "SessionContext": about.key}))
        response = self._call(lambda: self._client.SendSms(request))
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise ProviderError("tencent: SendSms answered no status", uncertain=True)
        if status.Code != OK:
            raise _refusal(status.Code or "", status.Message or "", about.key)
        return Sent(sid=status.SerialNo, status="sent")

    def place_call(self, to: str, script: CallScript, sender: str = "") -> Sent:
        """Not offered: Tencent's voice messages are another product."""
        raise ProviderError("tencent: calls are not sent through the SMS adapter", permanent=True)

    def _went_out(self, to: str, key: str) -> Sent | None:
        """An SMS with this SessionContext that the carrier reported on in the last two days, if any."""
        now = int(time.time())
        for record in self._pulled(to, now - LOOKBACK_SECONDS, now):
            if record.SessionContext == key:
                return Sent(sid=record.SerialNo, status="sent")
        return None

    def look_up_receipt(self, to: str, out_id: str, sent_at: datetime) -> DeliveryReceipt | None:
        """The carrier's word on the SMS with this SessionContext sent at `sent_at`: delivered or failed, or None
        while the carrier has not reported (or Tencent knows no such SMS)."""
        aware = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)
        begin = int(aware.timestamp()) - 60
        for record in self._pulled(to, begin, max(int(time.time()), begin + 1)):
            if record.SessionContext == out_id and record.ReportStatus in ("SUCCESS", "FAIL"):
                delivered = record.ReportStatus == "SUCCESS"
                return DeliveryReceipt(sid=record.SerialNo, key=out_id, delivered=delivered,
                                       error="" if delivered else str(record.Description or "FAIL"))
        return None

    def _pulled(self, to: str, begin: int, end: int) -> list:
        """PullSmsSendStatusByPhoneNumber's records of `to` between two UNIX times (the newest PULL_LIMIT)."""
        from tencentcloud.sms.v20210111.models import PullSmsSendStatusByPhoneNumberRequest

        request = PullSmsSendStatusByPhoneNumberRequest()
        request.from_json_string(json.dumps({"BeginTime": begin, "EndTime": end, "Offset": 0, "Limit": PULL_LIMIT,
                                             "PhoneNumber": to, "SmsSdkAppId": self._app_id}))
        response = self._call(lambda: self._client.PullSmsSendStatusByPhoneNumber(request), query=True)
        return list(response.PullSmsSendStatusSet or [])

    @staticmethod
    def _call(fn, query: bool = False):
        """Run one SDK call; its exceptions become ProviderError. A send with no answer is uncertain (it may have
        gone out); so is a failed query, which asked whether it had."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        try:
            return fn()
        except TencentCloudSDKException as exc:
            code, message = str(exc.code or ""), str(exc.message or "")
            if query:
                raise ProviderError(f"tencent {code}: send status unknown"[:300], code, uncertain=True) from None
            if code != "ClientNetworkError":
                raise _refusal(code, message, "") from None
            never_sent = any(s in message for s in ("Failed to establish", "Connection refused",
                                                    "Name or service not known", "ConnectTimeout"))
            raise ProviderError(f"tencent network error: {'connect' if never_sent else 'no answer'}",
                                uncertain=not never_sent) from None


def _refusal(code: str, message: str, key: str) -> ProviderError:
    """Tencent's refusal as the project's error: transient, permanent, or permanent with the account empty."""
    if code in ACCOUNT_EMPTY:
        log.error("Tencent Cloud SMS account cannot send (%s): buy an SMS package or settle the arrears; SMS %s "
                  "failed", code, key)
    transient = code in TRANSIENT or code.startswith("InternalError.") or code.startswith("RequestLimitExceeded")
    return ProviderError(f"tencent {code}: {message}"[:300], code, permanent=not transient,
                         uncertain=code in MAYBE_SENT,
                         recipient_limited=code in RECIPIENT_LIMITED)


def from_settings(settings: DispatchSettings) -> TencentSms:
    """The Tencent adapter for these settings (TENCENT_*)."""
    if not (settings.tencent_secret_id and settings.tencent_secret_key and settings.tencent_sms_app_id
            and settings.tencent_sms_sign):
        raise ValueError("SMS_PROVIDER=tencent needs TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_SMS_APP_ID and "
                         "TENCENT_SMS_SIGN")
    templates = load_templates(settings.tencent_templates)
    return TencentSms(settings.tencent_secret_id, settings.tencent_secret_key, settings.tencent_region,
                      settings.tencent_sms_app_id, settings.tencent_sms_sign, templates,
                      settings.tencent_sms_endpoint, settings.tencent_timeout_seconds)
