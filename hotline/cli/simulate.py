"""`flask simulate call|sms`: drive the running hotline as Twilio would (signed webhooks), no phone needed.

The parameters, the signature and the walk through the TwiML are the console softphone's own
(twilio_wire, virtual_call); only the transport differs: here each webhook goes over HTTP to the server.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import click
import requests
from flask.cli import AppGroup

from hotline import db
from hotline.registry.demo import DEMO_RESIDENT_PHONE, DEMO_TECHNICIAN_PHONE
from hotline.softphone import twilio_wire as wire
from hotline.softphone.virtual_call import Transport, VirtualCall, WebhookFailed, new_call


def over_http(settings, server: str) -> Transport:
    """Post signed webhooks to the server at `server`, as if Twilio requested PUBLIC_BASE_URL + path."""
    server = server.rstrip("/")

    def post(path: str, params: dict) -> str:
        headers = wire.signed_headers(settings.twilio_auth_token, settings.public_base_url, path, params)
        resp = requests.post(server + path, data=params, headers=headers, timeout=15)
        if resp.status_code != 200:
            raise WebhookFailed(f"{path.split('?')[0]} answered {resp.status_code}")
        return resp.text

    return post


def _account(settings) -> str:
    return settings.twilio_account_sid or wire.placeholder_account()


def _echo(events: list[dict]) -> None:
    for event in events:
        kind = event["kind"]
        if kind == "say":
            click.echo(f"  🔊 {event['text']}")
        elif kind in ("key", "ignored_key"):
            click.echo(f"  ⌨ {event['digits']}" + (" (nobody listens)" if kind == "ignored_key" else ""))
        elif kind == "silence":
            click.echo("  ⌨ (silence)")
        elif kind == "ended":
            click.echo("  (call ends)")
        elif kind == "unsupported":
            click.echo(f"  ? <{event['verb']}> is not simulated")


@click.group("simulate", cls=AppGroup)
def simulate():
    """Play Twilio against the running server (make run) with signed webhooks."""


@simulate.command("call")
@click.option("--from", "from_", default=DEMO_RESIDENT_PHONE, show_default=True, help="caller number")
@click.option("--to", default=None, help="dialled number (default: the elderly line)")
@click.option("--keys", default="", help="keys to press in turn, comma-separated; '-' = stay silent")
@click.option("--server", default=None, help="where the app listens (default: HOTLINE_BIND)")
def call(from_, to, keys, server):
    """Call the hotline and press keys; prints what the caller hears."""
    settings = db.settings()
    api = settings.twilio_api_base_url if settings.twilio_account_sid else wire.TWILIO_API
    state = new_call(from_, to or settings.elderly_number, _account(settings), api=api)
    phone = VirtualCall(state, over_http(settings, server or f"http://{settings.bind}"))
    _echo(phone.start())
    presses = [k.strip() for k in keys.split(",") if k.strip()]
    while state["wait"] and state["wait"]["verb"] == "gather" and presses:
        key = presses.pop(0)
        _echo(phone.silence() if key == "-" else phone.press(key))
    wait = state["wait"] or {}
    if wait.get("verb") == "dial":
        click.echo(f"  ☎ ringing {len(wait['numbers'])} officer(s) (screened: press 1 to accept)")
    elif wait.get("verb") == "record":
        click.echo("  ⏺ recording a message")
    elif wait.get("verb") == "gather":
        click.echo("  (no more keys: hanging up)")
    phone.hangup()


@simulate.command("sms")
@click.option("--from", "from_", default=DEMO_TECHNICIAN_PHONE, show_default=True, help="sender number")
@click.option("--body", required=True, help="the SMS text, e.g. 1, 接单 123456, 到达, 完成")
@click.option("--server", default=None, help="where the app listens (default: HOTLINE_BIND)")
def sms(from_, body, server):
    """Send an SMS to the hotline (a technician's reply); prints the answer."""
    settings = db.settings()
    post = over_http(settings, server or f"http://{settings.bind}")
    params = wire.sms_params(wire.new_sid("SM"), _account(settings), from_, settings.elderly_number, body)
    for message in ET.fromstring(post(wire.SMS_PATH, params)).iter("Message"):
        click.echo(f"  ✉ {''.join(message.itertext())}")


def register(cli_group) -> None:
    """Attach `simulate` to the app's CLI."""
    cli_group.add_command(simulate)
