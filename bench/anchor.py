"""The anchors' common stack: Flask with the hotline's three voice routes, Twilio's signature check, fixed TwiML.

The bare and the durable anchor differ only in what they do between the check and the answer (`on_webhook`),
so their documents and their check are these, not copies.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

MENU_QUERY = "?node=menu&category=&silences=0&invalid=0"
CONFIRM_QUERY = "?node=confirm&category=housekeeping&silences=0&invalid=0"
ROUTES = ("greeting", "menu", "confirm")

# Called after the signature check with the webhook's route name and its form, before the answer is sent.
OnWebhook = Callable[[str, dict], None]


def _gather(base: str, query: str, prompt: str) -> str:
    response = VoiceResponse()
    response.say("您好，这里是巴林左旗养老服务热线。", language="cmn-CN", voice="Polly.Zhiyu")
    gather = Gather(num_digits=1, timeout=12, action=f"{base}/twilio/voice/menu{query}", method="POST",
                    action_on_empty_result=True, finish_on_key="")
    gather.say(prompt, language="cmn-CN", voice="Polly.Zhiyu")
    response.append(gather)
    return str(response)


def documents(base: str) -> dict[str, str]:
    """The three TwiML answers of the walk (greeting -> menu -> confirm), with callbacks under `base`."""
    done = VoiceResponse()
    done.say("已为您登记，服务单号是1 2 3 4 5 6。感谢来电，再见。", language="cmn-CN", voice="Polly.Zhiyu")
    done.hangup()
    return {"greeting": _gather(base, MENU_QUERY, "生活照料请按1，家政维修请按2。"),
            "menu": _gather(base, CONFIRM_QUERY, "您选择了家政维修。确认请按1，重新选择请按2。"),
            "confirm": str(done)}


def create_anchor(base: str, auth_token: str, on_webhook: OnWebhook | None = None) -> Flask:
    """A Flask app answering the walk's webhooks with fixed TwiML once their signature checks out (403 if not)."""
    base = base.rstrip("/")
    validator = RequestValidator(auth_token)
    answers = documents(base)
    app = Flask(__name__)

    def checked(name: str) -> Response:
        query = request.query_string.decode("latin-1")
        url = base + request.path + (f"?{query}" if query else "")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        if on_webhook is not None:
            on_webhook(name, request.form)
        return Response(answers[name], mimetype="text/xml")

    @app.post("/twilio/voice")
    def greeting():
        """Fixed greeting."""
        return checked("greeting")

    @app.post("/twilio/voice/menu")
    def menu():
        """Fixed menu or confirmation answer, by the node in the signed URL."""
        return checked("confirm" if request.args.get("node") == "confirm" else "menu")

    return app
