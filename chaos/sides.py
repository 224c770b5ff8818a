"""The providers' side of the fault run, one class per provider: its fake, the app's settings for it, how the
people's SMS replies reach the app, and the provider faults. SMS and calls are chosen apart (`--provider`,
`--voice-provider`), as the app's SMS_PROVIDER and VOICE_PROVIDER: a new voice fake is one entry in VOICE."""
from __future__ import annotations

import random
import secrets
from pathlib import Path

from .aliyun import FORGED_ERR, FORGED_SEQUENCE, PUSH_TOKEN, Pusher, TimedFakeAliyun
from .aliyun_voice import AliyunVoiceSide
from .client import Answer, Webhooks
from .fake import TimedFakeTwilio


class TwilioVoice:
    """Calls through the Twilio fake (REST + TwiML); inbound voice is always Twilio's signed webhooks."""

    name = "twilio"

    def __init__(self, twilio: TimedFakeTwilio, hooks: Webhooks, seed: int):
        self.fake = twilio
        self.fakes = [twilio]

    def env(self, instance: Path) -> dict:
        return {"VOICE_PROVIDER": "twilio"}

    def start(self) -> None:
        """Nothing beyond the Twilio fake."""

    def stop(self) -> None:
        """Nothing to stop."""

    def pending(self) -> int:
        return 0

    def faults(self, f) -> list[tuple[float, str, object]]:
        """Twilio's faults are the SMS side's (one fake for both)."""
        return []

    def figures(self, ev) -> dict:
        return {}

    def calls(self) -> list[dict]:
        """The calls the fake placed: sid, to, twiml."""
        return [{"sid": c["sid"], "to": c["to"], "twiml": c["twiml"] or ""} for c in self.fake.calls]


class TwilioSms:
    """SMS through the Twilio fake; replies are signed /twilio/sms webhooks answered in TwiML."""

    name = "twilio"
    answers_by_sms = False
    timeout = 10.0   # TWILIO_TIMEOUT_SECONDS

    def __init__(self, twilio: TimedFakeTwilio, hooks: Webhooks, seed: int):
        self.fake, self.hooks = twilio, hooks
        self.fakes = [twilio]

    def start(self) -> None:
        """Nothing beyond the Twilio fake, which runs for the calls anyway."""

    def stop(self) -> None:
        """Nothing to stop."""

    def env(self, instance: Path) -> dict:
        return {"SMS_PROVIDER": "twilio"}

    def sent(self) -> list[dict]:
        """The SMS the fake accepted, in order: to, body, sid (no key: Twilio knows no outbox key)."""
        return [{"to": m["to"], "body": m["body"], "sid": m["sid"], "key": None} for m in self.fake.messages]

    def timeline(self) -> list[dict]:
        return self.fake.timeline_copy()

    def reply(self, driver, from_: str, body: str) -> Answer:
        """A handset's SMS to the hotline: Twilio's webhook, its answer in the TwiML."""
        answer = self.hooks.post("/twilio/sms", self.hooks.sms_params(from_, driver.numbers["elderly"], body))
        driver.maybe_replay(answer)
        return answer

    def forge(self, rng: random.Random, phones: dict) -> bool:
        """No SMS-side forgery of its own: the driver's forged webhooks cover /twilio/sms."""
        return False

    def pending(self) -> int:
        return 0

    def faults(self, f) -> list[tuple[float, str, object]]:
        """Twilio 429 and 500 bursts, and Twilio answering after the client's timeout."""
        return [
            (0.25, "Twilio 429 burst (x8, 20429)", lambda: f.provider(self.fake, 8, 429, 20429)),
            (0.65, "Twilio 500 burst (x6, 20500)", lambda: f.provider(self.fake, 6, 500, 20500)),
            (0.80, "Twilio timeouts (answers in 12 s)", lambda: f.slow(self.fake, 12.0, 1.0)),
        ]

    def figures(self, ev) -> dict:
        return {}


class AliyunSms:
    """SMS through the Alibaba fake; replies and receipts are its HTTP batch pushes to the app."""

    name = "aliyun"
    answers_by_sms = True   # a pushed reply is answered by a template SMS through the outbox
    timeout = 5.0           # ALIYUN_TIMEOUT_SECONDS

    def __init__(self, twilio: TimedFakeTwilio, hooks: Webhooks, seed: int):
        self.fake = TimedFakeAliyun().start()
        self.pusher = Pusher(self.fake, hooks.base_url, seed)
        self.fakes = [twilio, self.fake]
        self._forged_sequence = FORGED_SEQUENCE

    def start(self) -> None:
        self.pusher.start()

    def stop(self) -> None:
        self.pusher.stop()
        self.fake.stop()

    def env(self, instance: Path) -> dict:
        """SMS_PROVIDER=aliyun against the fake, with an approved template file in the run's instance dir."""
        import json

        from tests.aliyun_helpers import AK_ID, AK_SECRET, SIGN_NAME, approved

        instance.mkdir(parents=True, exist_ok=True)
        path = instance / "aliyun_templates.json"
        path.write_text(json.dumps(approved(), ensure_ascii=False), encoding="utf-8")
        return {"SMS_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": AK_ID, "ALIYUN_ACCESS_KEY_SECRET": AK_SECRET,
                "ALIYUN_SIGN_NAME": SIGN_NAME, "ALIYUN_TEMPLATES": str(path),
                "ALIYUN_SMS_ENDPOINT": self.fake.endpoint, "ALIYUN_TIMEOUT_SECONDS": str(self.timeout),
                "ALIYUN_PUSH_TOKEN": PUSH_TOKEN}

    def sent(self) -> list[dict]:
        return self.fake.sms_sent()

    def timeline(self) -> list[dict]:
        return self.fake.timeline_copy()

    def reply(self, driver, from_: str, body: str) -> None:
        """A handset's SMS to the hotline: an SmsUp that Alibaba pushes; the answer comes back as an SMS."""
        self.fake.reply(from_, body)

    def forge(self, rng: random.Random, phones: dict) -> bool:
        """A push with a wrong token: an SmsUp accepting an offer, or a receipt failing a real message."""
        if rng.random() < 0.5:
            with self.pusher.lock:
                self._forged_sequence += 1
                seq = self._forged_sequence
            item = {"phone_number": rng.choice(phones["technicians"]).removeprefix("+86"),
                    "content": f"1 {rng.randrange(10**6):06d}", "sequence_id": seq, "send_time": "",
                    "sign_name": self.fake.sign_name, "dest_code": ""}
            self.pusher.forge("sms-up", item)
        else:
            sent = self.fake.sms_sent()
            target = rng.choice(sent) if sent else {"sid": secrets.token_hex(6), "key": "", "to": "+8613800000000"}
            self.pusher.forge("sms-report", {"biz_id": target["sid"], "out_id": target["key"], "success": False,
                                             "err_code": FORGED_ERR, "err_msg": "forged",
                                             "phone_number": target["to"].removeprefix("+86")})
        return True

    def pending(self) -> int:
        return self.fake.pending_pushes

    def faults(self, f) -> list[tuple[float, str, object]]:
        """Alibaba refusing (flow control, its own fault), answering after the timeout, push answers lost."""
        return [
            (0.25, "Alibaba BUSINESS_LIMIT_CONTROL (x8)",
             lambda: f.refuse(self.fake, ["isv.BUSINESS_LIMIT_CONTROL"] * 8)),
            (0.33, "push answers lost (x6)", lambda: self._lose(6)),
            (0.65, "Alibaba isp.SYSTEM_ERROR (x6)", lambda: f.refuse(self.fake, ["isp.SYSTEM_ERROR"] * 6)),
            (0.80, "Alibaba answers in 8 s (timeout 5)", lambda: f.slow(self.fake, 8.0, 1.0, after=True)),
        ]

    def _lose(self, n: int) -> dict:
        self.pusher.lose_answers(n)
        return {"lost": n}

    def figures(self, ev) -> dict:
        """What Alibaba's side says: replies that never became an inbound row, forged pushes not refused."""
        replies = {f"aliyun:{seq}" for seq in range(1001, 1001 + self.fake.handset_replies())}
        forged_up = {f"aliyun:{p['sequence_id']}" for p in self.pusher.forged if p["what"] == "sms-up"}
        return {
            "replies_lost": sorted(replies - ev.inbound_sids),
            "replies_unanswered": sorted(replies - ev.answered_replies),
            "pushes_pending": self.fake.pending_pushes,
            "forged_pushes_accepted": [p for p in self.pusher.forged if p["status"] != 403]
            + sorted(forged_up & ev.inbound_sids) + [m.key for m in ev.outbound if FORGED_ERR in (m.error or "")],
            "push_replays_bad": [r for r in self.pusher.replays if r["status"] != 200 or not r["ok"]],
            "no_receipt": [m.key for m in ev.outbound if m.channel == "sms" and m.status not in ("delivered",
                                                                                                 "failed")],
        }


SMS = {"twilio": TwilioSms, "aliyun": AliyunSms}
VOICE = {"twilio": TwilioVoice, "aliyun": AliyunVoiceSide}
