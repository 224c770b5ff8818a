"""`flask simulate call|sms`: drive the running hotline as Twilio would (signed webhooks), no phone needed."""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import click
import requests
from flask import current_app
from twilio.request_validator import RequestValidator

from .demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE


class Webhooks:
    """Signs and posts webhooks to the server at `server`, as if Twilio requested PUBLIC_BASE_URL."""

    def __init__(self, settings, server: str):
        self.public = settings.public_base_url.rstrip("/")
        self.server = server.rstrip("/")
        self.validator = RequestValidator(settings.twilio_auth_token)
        self.account = settings.twilio_account_sid or "AC" + "0" * 32

    def post(self, url: str, params: dict) -> ET.Element:
        """POST one signed webhook; `url` may be a path or a public URL; returns the TwiML root."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.public + path, params)
        resp = requests.post(self.server + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)
        resp.raise_for_status()
        return ET.fromstring(resp.content)


def _spoken(element: ET.Element) -> list[str]:
    return ["".join(say.itertext()) for say in element.iter("Say")]


def register(cli_group) -> None:
    """Attach `simulate` to the app's CLI."""

    @cli_group.group("simulate")
    def simulate():
        """Play Twilio against the running server (make run) with signed webhooks."""

    @simulate.command("call")
    @click.option("--from", "from_", default=DEMO_RESIDENT_PHONE, show_default=True, help="caller number")
    @click.option("--to", default=None, help="dialled number (default: the elderly line)")
    @click.option("--keys", default="", help="keys to press in turn, comma-separated; '-' = stay silent")
    @click.option("--server", default=None, help="where the app listens (default: HOTLINE_BIND)")
    def call(from_, to, keys, server):
        """Call the hotline and press keys; prints what the caller hears."""
        settings = current_app.config["HOTLINE"]
        hooks = Webhooks(settings, server or f"http://{settings.bind}")
        base = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": hooks.account, "From": from_,
                "To": to or settings.elderly_number, "Direction": "inbound", "ApiVersion": "2010-04-01"}
        root = hooks.post("/twilio/voice", {**base, "CallStatus": "ringing"})
        presses = [k.strip() for k in keys.split(",") if k.strip()]
        while True:
            for sentence in _spoken(root):
                click.echo(f"  🔊 {sentence}")
            gather, redirect, dial = root.find("Gather"), root.find("Redirect"), root.find("Dial")
            if dial is not None:
                click.echo(f"  ☎ ringing {len(dial.findall('Number'))} officer(s) (screened: press 1 to accept)")
                break
            if root.find("Record") is not None:
                click.echo("  ⏺ recording a message")
                break
            if gather is None and redirect is None:
                click.echo("  (call ends)")
                break
            if gather is None:
                root = hooks.post(redirect.text, {**base, "CallStatus": "in-progress"})
                continue
            if not presses:
                click.echo("  (no more keys: hanging up)")
                break
            key = presses.pop(0)
            click.echo(f"  ⌨ {key}")
            root = hooks.post(gather.get("action"), {**base, "CallStatus": "in-progress",
                                                     "Digits": "" if key == "-" else key})
        hooks.post("/twilio/voice/status", {**base, "CallStatus": "completed", "CallDuration": "30"})

    @simulate.command("sms")
    @click.option("--from", "from_", default=DEMO_TECHNICIAN_PHONE, show_default=True, help="sender number")
    @click.option("--body", required=True, help="the SMS text, e.g. 1, 接单 123456, 到达, 完成")
    @click.option("--server", default=None, help="where the app listens (default: HOTLINE_BIND)")
    def sms(from_, body, server):
        """Send an SMS to the hotline (a technician's reply); prints the answer."""
        settings = current_app.config["HOTLINE"]
        hooks = Webhooks(settings, server or f"http://{settings.bind}")
        root = hooks.post("/twilio/sms", {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": hooks.account,
                                          "From": from_, "To": settings.elderly_number, "Body": body,
                                          "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"})
        for message in root.iter("Message"):
            click.echo(f"  ✉ {''.join(message.itertext())}")
