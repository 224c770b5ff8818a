"""The bare stack: Flask under the same gunicorn, checking Twilio's signature and answering fixed TwiML."""
from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

MENU_QUERY = "?node=menu&category=&silences=0&invalid=0"
CONFIRM_QUERY = "?node=confirm&category=housekeeping&silences=0&invalid=0"


def _gather(base: str, query: str, prompt: str) -> str:
    response = VoiceResponse()
    response.say("您好，这里是巴林左旗养老服务热线。", language="cmn-CN", voice="Polly.Zhiyu")
    gather = Gather(num_digits=1, timeout=12, action=f"{base}/twilio/voice/menu{query}", method="POST",
                    action_on_empty_result=True, finish_on_key="")
    gather.say(prompt, language="cmn-CN", voice="Polly.Zhiyu")
    response.append(gather)
    return str(response)


def create_app() -> Flask:
    """The bare app: PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN from the environment, three fixed documents."""
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    done = VoiceResponse()
    done.say("已为您登记，服务单号是1 2 3 4 5 6。感谢来电，再见。", language="cmn-CN", voice="Polly.Zhiyu")
    done.hangup()
    documents = {"greeting": _gather(base, MENU_QUERY, "生活照料请按1，家政维修请按2。"),
                 "menu": _gather(base, CONFIRM_QUERY, "您选择了家政维修。确认请按1，重新选择请按2。"),
                 "confirm": str(done)}
    app = Flask(__name__)

    def checked(name: str) -> Response:
        query = request.query_string.decode("latin-1")
        url = base + request.path + (f"?{query}" if query else "")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        return Response(documents[name], mimetype="text/xml")

    @app.post("/twilio/voice")
    def greeting():
        """Fixed greeting."""
        return checked("greeting")

    @app.post("/twilio/voice/menu")
    def menu():
        """Fixed menu or confirmation answer, by the node in the signed URL."""
        return checked("confirm" if request.args.get("node") == "confirm" else "menu")

    return app
