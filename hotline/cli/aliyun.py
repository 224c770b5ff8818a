"""`flask aliyun-templates`: the Alibaba Cloud SMS templates to submit for approval, and the push URLs to set."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from dispatch.providers.aliyun_templates import PARAM, load_templates
from hotline import db


@click.command("aliyun-templates")
@with_appcontext
def aliyun_templates_command() -> None:
    """Print every SMS template to submit (kind, TemplateCode or "-", purpose, text, fixed length with signature)."""
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
    base = settings.public_base_url.rstrip("/")
    token = settings.aliyun_push_token or "<ALIYUN_PUSH_TOKEN>"
    click.echo(f"SmsUp push URL (上行短信): {base}/aliyun/{token}/sms-up")
    click.echo(f"SmsReport push URL (发送状态): {base}/aliyun/{token}/sms-report")
