"""The Alibaba Cloud SMS adapter (dysmsapi 2017-05-25) of the sending side: SendSms through the official SDK.

The only module that imports the Alibaba SDK. A message goes out as its approved template (TemplateCode,
TemplateParam) with the outbox row's key as OutId; the text itself is never sent. SendSms is not idempotent:
the outbox claims a row once per attempt, and a retry (attempt 2 on: after a timeout, a transient error, or a
worker that died mid-send) first asks QuerySendDetails whether a message with that OutId went out today or
yesterday, and sends again only if none did. `look_up_receipt` asks the same call what became of an SMS that got
no pushed receipt (dispatch/receipt_check.py). Errors are translated into ProviderError here.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from models.phone import mask

from .aliyun_templates import Template, load_templates
from .events import DeliveryReceipt
from .interface import CallScript, Outgoing, ProviderError, Sent

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")  # Alibaba's SendDate is a Beijing date
# Codes that may clear by themselves: per-number flow control, Alibaba's own faults, API throttling.
TRANSIENT_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "Throttling",
                   "Throttling.User", "Throttling.Api", "ServiceUnavailable", "InternalError"}
RECIPIENT_LIMITED = "isv.BUSINESS_LIMIT_CONTROL"
# The account cannot send at all until staff act: out of credit, or stopped for arrears.
ACCOUNT_EMPTY = {"isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE"}
# QuerySendDetails' SendStatus: 1 waiting for the carrier's receipt, 2 failed, 3 delivered.
WENT_OUT = {1, 3}
DELIVERED, SETTLED = 3, {2, 3}
QUERY_PAGES, QUERY_PAGE_SIZE = 10, 50


class AliyunSms:
    """Alibaba Cloud's SMS API; SMS only (its voice service is another product)."""

    local = False

    def __init__(self, access_key_id: str, access_key_secret: str, region: str, sign_name: str,
                 templates: dict[str, Template], endpoint: str = "", timeout: float = 10.0):
        from alibabacloud_dysmsapi20170525.client import Client

        # No retries in the SDK (its default): a retried SendSms could go out twice; the outbox retries instead.
        self._client = Client(sdk_config(access_key_id, access_key_secret, region, endpoint, timeout))
        self._sign_name, self._templates = sign_name, templates

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Send one SMS as its approved template, OutId = the outbox key; a retry sends only if none went out."""
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        about = about or Outgoing()
        template = self._templates.get(about.kind)
        if template is None or not template.code:
            log.error("no approved Alibaba template for SMS kind %r (%s): not sent", about.kind or "-", about.key)
            raise ProviderError(f"aliyun: no template for kind {about.kind or '-'}", permanent=True)
        try:
            param = template.param_json(about.params)
        except KeyError as missing:
            raise ProviderError(f"aliyun: kind {about.kind} lacks parameter {missing}", permanent=True) from None
        phone = recipient(to)
        if about.attempt > 1 and about.key:
            earlier = self._went_out(phone, about.key)
            if earlier is not None:
                log.info("SMS %s to %s went out on an earlier attempt: not sent again", about.key, mask(to))
                return earlier
        request = SendSmsRequest(phone_numbers=phone, sign_name=self._sign_name, template_code=template.code,
                                 template_param=param, out_id=about.key or None)
        body = self._call(lambda: self._client.send_sms(request).body)
        if body.code != "OK":
            raise _refusal(body.code or "", body.message or "", None, about.key)
        return Sent(sid=body.biz_id or out_sid(about.key), status="sent")

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Not offered: Alibaba's voice notices are another product (dyvms)."""
        raise ProviderError("aliyun: calls are not sent through the SMS adapter", permanent=True)

    def _went_out(self, phone: str, out_id: str) -> Sent | None:
        """An SMS with this OutId that Alibaba accepted today or yesterday (Beijing dates), if any."""
        today = datetime.now(BEIJING).date()
        for day in (today, today - timedelta(days=1)):
            for detail in self._details(phone, day):
                if detail.out_id == out_id and detail.send_status in WENT_OUT:
                    return Sent(sid=out_sid(out_id), status="sent")
        return None

    def look_up_receipt(self, to: str, out_id: str, sent_at: datetime) -> DeliveryReceipt | None:
        """The carrier's word on the SMS with this OutId sent at `sent_at` (QuerySendDetails of its Beijing date):
        delivered or failed, or None while Alibaba waits for the carrier (or knows no such SMS)."""
        aware = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)
        for detail in self._details(recipient(to), aware.astimezone(BEIJING).date()):
            if detail.out_id == out_id and detail.send_status in SETTLED:
                delivered = detail.send_status == DELIVERED
                return DeliveryReceipt(sid=out_sid(out_id), key=out_id, delivered=delivered,
                                       error="" if delivered else str(detail.err_code or "failed"))
        return None

    def _details(self, phone: str, day: date) -> Iterator:
        """QuerySendDetails' records of `phone` on Beijing date `day`, page by page (up to QUERY_PAGES)."""
        from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest

        for page in range(1, QUERY_PAGES + 1):
            request = QuerySendDetailsRequest(phone_number=phone, send_date=day.strftime("%Y%m%d"),
                                              page_size=QUERY_PAGE_SIZE, current_page=page)
            body = self._call(lambda query=request: self._client.query_send_details(query).body, uncertain=True)
            if body.code != "OK":
                raise ProviderError(f"aliyun {body.code}: send details unknown", body.code, uncertain=True)
            details = (body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []) or []
            yield from details
            if len(details) < QUERY_PAGE_SIZE:
                return

    @staticmethod
    def _call(fn, uncertain: bool = False):
        """Run one SDK call; its exceptions become ProviderError (a timeout after sending: uncertain)."""
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
        from darabonba.exceptions import UnretryableException

        try:
            return fn()
        except AlibabaCloudException as exc:
            raise _refusal(str(exc.code or ""), str(exc.message or ""), exc.status_code, "") from None
        except UnretryableException as exc:  # the transport failed: refused, reset, or timed out
            reason = str(getattr(exc, "inner_exception", "") or exc)
            never_sent = any(s in reason for s in ("Failed to establish", "Connection refused", "ConnectTimeout",
                                                   "Name or service not known"))
            raise ProviderError(f"aliyun network error: {'connect' if never_sent else 'no answer'}",
                                uncertain=uncertain or not never_sent) from None


def _refusal(code: str, message: str, status: int | None, key: str) -> ProviderError:
    """Alibaba's refusal as the project's error: transient, permanent, or permanent with the account empty."""
    if code in ACCOUNT_EMPTY:
        log.error("Alibaba Cloud SMS account cannot send (%s): top up or reactivate it; SMS %s failed", code, key)
    transient = code in TRANSIENT_CODES or code.startswith("isp.") or (status or 0) >= 500
    return ProviderError(f"aliyun {code}: {message}"[:300], code, status, permanent=not transient,
                         recipient_limited=code == RECIPIENT_LIMITED)


def recipient(e164: str) -> str:
    """Alibaba's PhoneNumbers form: a mainland number's 11 digits, any other with its country code."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def out_sid(out_id: str) -> str:
    """A stand-in SID for a message known only by its OutId (QuerySendDetails gives no BizId)."""
    return "out:" + hashlib.sha1(out_id.encode()).hexdigest()


def sdk_config(access_key_id: str, access_key_secret: str, region: str, endpoint: str, timeout: float):
    """The Alibaba SDK's client configuration (SMS and voice alike): keys, region, endpoint, one timeout in ms."""
    from alibabacloud_tea_openapi.utils_models import Config

    protocol, host = split_endpoint(endpoint)
    millis = int(timeout * 1000)
    return Config(access_key_id=access_key_id, access_key_secret=access_key_secret, region_id=region,
                  endpoint=host or None, protocol=protocol, connect_timeout=millis, read_timeout=millis)


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """(protocol, host[:port]) of ALIYUN_SMS_ENDPOINT: "https" and "" (the region's host) when unset."""
    if "://" not in endpoint:
        return "https", endpoint.strip("/")
    parts = urlsplit(endpoint)
    return parts.scheme, parts.netloc


def from_settings(settings: DispatchSettings) -> AliyunSms:
    """The Alibaba adapter for these settings (ALIYUN_*)."""
    if not (settings.aliyun_access_key_id and settings.aliyun_access_key_secret and settings.aliyun_sign_name):
        raise ValueError("SMS_PROVIDER=aliyun needs ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET and "
                         "ALIYUN_SIGN_NAME")
    return AliyunSms(settings.aliyun_access_key_id, settings.aliyun_access_key_secret, settings.aliyun_region,
                     settings.aliyun_sign_name, load_templates(settings.aliyun_templates),
                     settings.aliyun_sms_endpoint, settings.aliyun_timeout_seconds)
