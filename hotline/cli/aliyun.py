"""`flask aliyun-templates`: the Alibaba Cloud SMS and voice (TTS) templates to submit for approval, and the push
URLs to set."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from dispatch.providers.aliyun_templates import PARAM, load_templates, load_voice
from hotline import db


@click.command("aliyun-templates")
@with_appcontext
def aliyun_templates_command() -> None:
    """Print every SMS template to submit (kind, TemplateCode or "-", purpose, text, fixed length with signature),
    every voice TTS template and key menu, and the push URLs."""
    settings = db.settings()
    sign = f"【{settings.aliyun_sign_name or '签名'}】"
    templates = load_templates(settings.aliyun_templates)
    click.echo(f"签名 / SignName: {sign}  ({len(templates)} templates, 短信通知; ${{name}} are variables)")
    for template in templates.values():
        click.echo(f"{template.kind}\t{template.code or '-'}\t{template.purpose}\t{template.text}\t"
                   f"({len(sign) + len(PARAM.sub('', template.text))} fixed chars with the signature)")
    missing = [t.kind for t in templates.values() if not t.code]
    if missing:
        click.echo(f"not approved yet (not sent until a TemplateCode is filled in): {', '.join(missing)}")
    voice = load_voice(settings.aliyun_templates)
    click.echo(f"语音 TTS templates (语音通知, {len(voice.tts)}; VOICE_PROVIDER=aliyun):")
    for template in voice.tts.values():
        click.echo(f"{template.kind}\t{template.code or '-'}\t{template.purpose}\t{template.text}")
    for name, menu in voice.menus.items():
        keys = " ".join(f"{key}={kind}" for key, kind in menu.keys.items())
        click.echo(f"menu {name}\t{keys}\tbye={menu.bye or '-'}\tstart={menu.start or '(the call sentence)'}")
    unapproved = [t.kind for t in voice.tts.values() if not t.code]
    if unapproved:
        click.echo(f"voice not approved yet (those calls are not placed): {', '.join(unapproved)}")
    base = settings.public_base_url.rstrip("/")
    token = settings.aliyun_push_token or "<ALIYUN_PUSH_TOKEN>"
    click.echo(f"SmsUp push URL (上行短信): {base}/aliyun/{token}/sms-up")
    click.echo(f"SmsReport push URL (发送状态): {base}/aliyun/{token}/sms-report")
    click.echo(f"VoiceReport push URL (语音呼叫记录): {base}/aliyun/{token}/voice-report")
