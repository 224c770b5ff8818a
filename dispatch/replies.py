"""Reading a technician's SMS reply: what they mean and which order they mean it for."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .payment_replies import BadPayment, PaidReport, after_done, split_reference

# Carrier/Twilio keywords: handled by the provider, never taken as an answer to an offer.
OPT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "YES", "UNSTOP",
                "HELP", "INFO", "REVOKE", "OPTOUT", "OPTIN", "退订", "TD", "T"}
INTENTS = {
    "accept": {"1", "Y", "ACCEPT", "OK", "接单", "接"},
    "decline": {"2", "N", "NO", "DECLINE", "拒绝", "拒", "不接"},
    "arrived": {"ARRIVED", "ARRIVE", "到达", "到了", "已到", "到"},
    "done": {"DONE", "COMPLETE", "COMPLETED", "FINISHED", "完成", "完工", "已完成", "好了"},
}
HELP_WORDS = {"?", "？", "帮助", "H"}
ACK_WORDS = {"ACK", "收到", "确认", "已收到"}
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_DIGITS = re.compile(r"\d+")
_PUNCT = re.compile(r"[\s,.;:!?，。；：！？、\-#\"'“”‘’()（）\[\]【】]+")


@dataclass(frozen=True)
class Reply:
    """A parsed reply: intent in accept/decline/arrived/done/bad_payment/help/optout/unknown, a code if given,
    and with "done" what the resident paid when the technician said so."""

    intent: str
    code: str | None = None
    payment: PaidReport | None = None


def parse(body: str | None) -> Reply:
    """Parse an SMS body: case-insensitive, full-width digits accepted, the code before or after."""
    text = unicodedata.normalize("NFKC", body or "").strip().upper()
    if not text or len(text) > 160:
        return Reply("unknown")
    if _PUNCT.sub("", text) in OPT_KEYWORDS or text.split()[0] in OPT_KEYWORDS - {"T", "TD"}:
        return Reply("optout")
    text, reference = split_reference(text)  # before the codes: a reference's digits are neither code nor amount
    codes = _CODE.findall(text)
    code = codes[0] if len(codes) == 1 else None
    if len(codes) > 1:
        return Reply("unknown")
    rest = _PUNCT.sub("", _CODE.sub(" ", text))
    if rest in HELP_WORDS:
        return Reply("help", code)
    for intent, words in INTENTS.items():
        if rest in words:
            return Reply(intent, code)
    try:
        paid = after_done(_CODE.sub(" ", text), INTENTS["done"], reference)
    except BadPayment:
        return Reply("bad_payment", code)
    return Reply("done", code, paid) if paid is not None else Reply("unknown", code)


def parse_ack(body: str | None) -> Reply | None:
    """An officer's acknowledgement (`ACK 123456`, `收到 123456`, bare `ACK`/`收到`), else None."""
    text = unicodedata.normalize("NFKC", body or "").strip().upper()
    codes = _DIGITS.findall(text)  # any length: a mistyped code gets "no such case", not silence
    if len(codes) > 1 or len(text) > 60:
        return None
    rest = _PUNCT.sub("", _DIGITS.sub(" ", text))
    if rest not in ACK_WORDS:
        return None
    return Reply("ack", codes[0] if codes else None)
