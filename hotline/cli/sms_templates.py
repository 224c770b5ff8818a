"""`flask sms-templates --provider aliyun|tencent`: a domestic provider's SMS templates to submit for approval, and
the callback URLs to set in its console."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from dispatch.providers.tencent_templates import POSITION, load_templates
from hotline import db
from hotline.cli.aliyun import aliyun_templates_command

PROVIDERS = ("aliyun", "tencent")


@click.command("sms-templates")
@click.option("--provider", type=click.Choice(PROVIDERS), default=None,
              help="whose templates (default: SMS_PROVIDER when it is one of these, else aliyun)")
@click.pass_context
@with_appcontext
def sms_templates_command(ctx: click.Context, provider: str | None) -> None:
    """Print every SMS template to submit (kind, template id or "-", purpose, text) and the callback URLs."""
    configured = db.settings().sms_provider_name
    chosen = provider or (configured if configured in PROVIDERS else "aliyun")
    if chosen == "aliyun":
        ctx.invoke(aliyun_templates_command)
        return
    _tencent()


def _tencent() -> None:
    settings = db.settings()
    sign = f"【{settings.tencent_sms_sign or '签名'}】"
    templates = load_templates(settings.tencent_templates)
    click.echo(f"签名 / SignName: {sign}  ({len(templates)} templates, 通知类; {{1}}, {{2}}... are variables)")
    for template in templates.values():
        click.echo(f"{template.kind}\t{template.id or '-'}\t{template.purpose}\t{template.text}\t"
                   f"({len(sign) + len(POSITION.sub('', template.text))} fixed chars with the signature; "
                   f"variables: {', '.join(template.params) or '-'})")
    missing = [t.kind for t in templates.values() if not t.id]
    if missing:
        click.echo(f"not approved yet (not sent until a template id is filled in): {', '.join(missing)}")
    base = settings.public_base_url.rstrip("/")
    token = settings.tencent_callback_token or "<TENCENT_CALLBACK_TOKEN>"
    click.echo(f"回复回调 URL (短信回复): {base}/tencent/{token}/sms-reply")
    click.echo(f"状态回调 URL (短信下发状态): {base}/tencent/{token}/sms-status")
