"""The Alibaba Cloud voice adapter (dyvms 2017-05-25) of the sending side: SingleCallByTts and IvrCall.

The only module that imports Alibaba's voice SDK. Calls go out as approved TTS templates (the "voice" section of
the template file): a notice (sentences, no question) through SingleCallByTts, a call that asks for a key (or
hands the call to an app dialogue, the satisfaction call) through IvrCall with a key map whose entries say the
thanks of each key. OutId is the outbox row's id (Alibaba allows 1-15 bytes); the call's VoiceReport brings it
back with the keys pressed (hotline/webhooks/aliyun_voice.py, dispatch/call_reports.py).

Neither call is idempotent and a call has no look-up by OutId (QueryCallDetailByCallId needs the CallId a
timed-out request never returned): a request that got no answer is not placed again. It fails the row as
uncertain, and if the call did go out its VoiceReport still settles the row and its keys still count.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from models.phone import mask, national

from .aliyun import sdk_config
from .aliyun_templates import Template, VoiceTemplates, load_voice
from .interface import CallScript, Outgoing, ProviderError, Sent, kind_of

if TYPE_CHECKING:  # type-only: providers sit below dispatch's modules at run time
    from ..settings import DispatchSettings

log = logging.getLogger(__name__)
# Per called number Alibaba places at most 1 call a minute, 5 an hour and 20 a day; past that it refuses.
RECIPIENT_LIMITED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"}
# Codes that may clear by themselves: the limits above, Alibaba's own faults, API throttling, a failed set-up.
TRANSIENT_CODES = RECIPIENT_LIMITED | {"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "Throttling", "Throttling.User",
                                       "Throttling.Api", "ServiceUnavailable", "InternalError",
                                       "isv.VOICE_CALL_FAIL", "isv.VOICE_ROBOT_NOT_PERIOD"}
ACCOUNT_EMPTY = {"isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE"}
MAX_TTS_PARAM = 250  # characters of TtsParam / StartTtsParams
MAX_PLAY_TIMES = 3
# How long an app dialogue's question waits for a key (the satisfaction webhook's Gather waits as long).
DIALOGUE_WAIT_SECONDS = 10


class AliyunVoice:
    """Alibaba Cloud's voice API (dyvms); calls only (SMS are dysmsapi's, dispatch/providers/aliyun.py)."""

    local = False

    def __init__(self, access_key_id: str, access_key_secret: str, region: str, templates: VoiceTemplates,
                 endpoint: str = "", timeout: float = 10.0, show_number: str = ""):
        from alibabacloud_dyvmsapi20170525.client import Client

        # No retries in the SDK (its default): a retried call could ring twice; the outbox decides instead.
        self._client = Client(sdk_config(access_key_id, access_key_secret, region, endpoint, timeout))
        self._templates, self._show_number = templates, show_number

    def send_sms(self, to: str, text: str, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Not offered: SMS go through Alibaba's SMS service (SMS_PROVIDER), not its voice service."""
        raise ProviderError("aliyun voice: SMS are not sent through the voice adapter", permanent=True)

    def place_call(self, to: str, script: CallScript, sender: str = "", about: Outgoing | None = None) -> Sent:
        """Place one call as its TTS templates: a notice by SingleCallByTts, a key question by IvrCall."""
        about = about or Outgoing()
        if script.verbatim or not script.language:  # TwiML of an earlier release, or a mangled body
            raise ProviderError("aliyun voice: not a call script", permanent=True)
        out_id = str(about.message_id) if about.message_id else None
        if script.question is None and script.then is None:
            body = self._single_call(to, script, out_id, about.key)
        else:
            body = self._ivr_call(to, script, out_id, about.key)
        if body.code != "OK":
            raise _refusal(body.code or "", body.message or "", None, about.key)
        log.info("Alibaba call %s to %s placed", about.key or "-", mask(to))
        return Sent(sid=body.call_id or f"aliyun-call:{out_id}", status="sent")

    def _single_call(self, to: str, script: CallScript, out_id: str | None, key: str):
        from alibabacloud_dyvmsapi20170525.models import SingleCallByTtsRequest

        template, params = self._sentence_template(script, key)
        request = SingleCallByTtsRequest(called_number=called(to), called_show_number=self._show_number or None,
                                         tts_code=template.code, tts_param=_param(template, params, key),
                                         play_times=_play_times(script.repeat), out_id=out_id)
        return self._call(lambda: self._client.single_call_by_tts(request).body)

    def _ivr_call(self, to: str, script: CallScript, out_id: str | None, key: str):
        from alibabacloud_dyvmsapi20170525.models import IvrCallRequest, IvrCallRequestMenuKeyMap

        target = script.question.answer if script.question is not None else script.then
        assert target is not None  # _ivr_call is only asked of a script with a question or a dialogue
        menu = self._templates.menus.get(target.name)
        if menu is None:
            raise self._missing(f"menu {target.name}", key)
        if script.question is not None:
            start, params = self._sentence_template(script, key)
            keys, wait = script.question.keys, script.question.wait_seconds
        else:  # an app dialogue: its opening is the menu's, the IVR's question said once more on silence
            start, params = self._tts(menu.start, key), {}
            keys, wait = "".join(menu.keys), DIALOGUE_WAIT_SECONDS
        if not self._show_number:
            raise ProviderError("aliyun voice: IvrCall needs ALIYUN_VOICE_SHOW_NUMBER (a number of the account)",
                                permanent=True)
        key_map = [IvrCallRequestMenuKeyMap(key=k, code=self._tts(kind, key).code)
                   for k, kind in menu.keys.items() if k in keys]
        request = IvrCallRequest(called_number=called(to), called_show_number=self._show_number,
                                 start_code=start.code, start_tts_params=_param(start, params, key),
                                 menu_key_map=key_map, bye_code=self._tts(menu.bye, key).code if menu.bye else None,
                                 timeout=wait * 1000, play_times=_play_times(script.repeat), out_id=out_id)
        return self._call(lambda: self._client.ivr_call(request).body)

    def _sentence_template(self, script: CallScript, key: str) -> tuple[Template, dict]:
        """The TTS template of the script's one sentence, and its parameters."""
        if len(script.sentences) != 1:
            raise ProviderError(f"aliyun voice: a call of {len(script.sentences)} sentences has no TTS template",
                                permanent=True)
        kind, params = kind_of(script.sentences[0])
        return self._tts(kind, key), params

    def _tts(self, kind: str, key: str) -> Template:
        template = self._templates.tts.get(kind)
        if template is None or not template.code:
            raise self._missing(kind or "-", key)
        return template

    @staticmethod
    def _missing(kind: str, key: str) -> ProviderError:
        log.error("no approved Alibaba TTS template for call kind %r (%s): not placed", kind, key or "-")
        return ProviderError(f"aliyun voice: no TTS template for kind {kind}", permanent=True)

    @staticmethod
    def _call(fn):
        """Run one SDK call; its exceptions become ProviderError (no answer after sending: uncertain, not retried)."""
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
            if never_sent:
                raise ProviderError("aliyun voice network error: connect") from None
            # The call may be ringing: placing it again could ring twice. Its VoiceReport settles the row.
            raise ProviderError("aliyun voice network error: no answer (the call may have been placed; "
                                "not placed again)", permanent=True, uncertain=True) from None


def _refusal(code: str, message: str, status: int | None, key: str) -> ProviderError:
    """Alibaba's refusal as the project's error: transient (a per-number limit: recipient_limited) or permanent."""
    if code in ACCOUNT_EMPTY:
        log.error("Alibaba Cloud voice account cannot call (%s): top up or reactivate it; call %s failed", code, key)
    transient = code in TRANSIENT_CODES or code.startswith("isp.") or (status or 0) >= 500
    return ProviderError(f"aliyun {code}: {message}"[:300], code, status, permanent=not transient,
                         recipient_limited=code in RECIPIENT_LIMITED)


def _param(template: Template, values: dict, key: str) -> str | None:
    """The template's TtsParam JSON from `values` (None when it has no parameters); at most 250 characters."""
    if not template.params:
        return None
    try:
        param = template.param_json(values)
    except KeyError as missing:
        raise ProviderError(f"aliyun voice: kind {template.kind} lacks parameter {missing}", permanent=True) from None
    if len(param) > MAX_TTS_PARAM:
        raise ProviderError(f"aliyun voice: {template.kind}'s parameters exceed {MAX_TTS_PARAM} characters ({key})",
                            permanent=True)
    return param


def _play_times(repeat: int) -> int:
    """PlayTimes: the script's repetitions within Alibaba's 1-3."""
    return max(1, min(MAX_PLAY_TIMES, repeat))


def called(e164: str) -> str:
    """Alibaba's CalledNumber: a mainland number in its national digits (13800000001, 04768223344), any other
    with its country code."""
    return national(e164) if e164.startswith("+86") else e164.lstrip("+")


def from_settings(settings: DispatchSettings) -> AliyunVoice:
    """The Alibaba voice adapter for these settings (ALIYUN_ACCESS_KEY_*, region, templates, ALIYUN_VOICE_*)."""
    if not (settings.aliyun_access_key_id and settings.aliyun_access_key_secret):
        raise ValueError("VOICE_PROVIDER=aliyun needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET")
    return AliyunVoice(settings.aliyun_access_key_id, settings.aliyun_access_key_secret, settings.aliyun_region,
                       load_voice(settings.aliyun_templates), settings.aliyun_voice_endpoint,
                       settings.aliyun_timeout_seconds, settings.aliyun_voice_show_number)

