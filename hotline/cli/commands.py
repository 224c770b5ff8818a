"""Command-line tasks for bureau staff and operators: imports, the outbox, demo data."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from hotline import db
from models import ROLES, Message, log_access, utcnow
from models.phone import mask


@click.command("import-csv")
@click.argument("kind", type=click.Choice(["residents", "technicians", "officers", "rota", "case_workers",
                                           "service_providers", "prices", "subsidies"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_csv_command(kind: str, file: Path) -> None:
    """Import a registry CSV (UTF-8, UTF-8 with BOM or GB18030); any bad row imports nothing."""
    from hotline.registry.importer import import_csv

    state = db.state()
    with state.session_factory() as session:
        result = import_csv(session, kind, file.read_bytes(), state.settings.tz, actor="flask import-csv")
        if result.errors:
            session.rollback()
            for error in result.errors:
                click.echo(error.message, err=True)
            click.echo("导入失败，未导入任何数据 / import failed, nothing imported "
                       f"({len(result.errors)} error(s))", err=True)
            sys.exit(1)
        session.commit()
    click.echo(f"{kind}: {result.created} created, {result.updated} updated")


@click.command("outbox")
@click.option("--limit", default=50, show_default=True, help="How many of the newest messages to list.")
@click.option("--full", is_flag=True, help="Show full phone numbers (they are masked by default).")
@with_appcontext
def outbox_command(limit: int, full: bool) -> None:
    """List the newest outbound SMS and calls (in local mode, what would have been sent); with --full, every
    child-line case shown is access-logged."""
    from hotline.console.message_text import mask_numbers

    state = db.state()
    with state.session_factory() as session:
        rows = list(session.scalars(select(Message).where(Message.direction == "outbound",
                                                          Message.status != "twiml")
                                    .order_by(Message.id.desc()).limit(limit)))
        total = session.scalar(select(func.count(Message.id)).where(Message.direction == "outbound",
                                                                    Message.status != "twiml"))
        if full:
            # Full numbers of a child-line case (the call-back number in an alert) are a read of case data.
            case_ids = sorted({m.case_id for m in rows if m.case_id is not None})
            log_access(session, "cli", case_ids, "flask outbox --full", "read")
            session.commit()
    for m in reversed(rows):
        to = m.to_phone if full else mask(m.to_phone)
        when = m.created_at.astimezone(state.settings.tz).strftime("%m-%d %H:%M:%S")
        body = m.body if m.channel == "sms" else "(voice call)"
        # A body may hold a number too (a case alert's call-back number): masked as the console does.
        body = body if full else mask_numbers(body)
        click.echo(f"{when}  {m.channel:4}  {m.status:7} {to:16} {body}")
    click.echo(f"({len(rows)} shown of {total})")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do in the console.")
@click.option("--name", "display_name", default="", help="The name shown in the console (default: USERNAME).")
@with_appcontext
def create_user_command(username: str, role: str, display_name: str) -> None:
    """Add a console user with a hashed password (prompted for twice; one line from stdin when piped)."""
    from hotline.staff import create_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with db.state().session_factory() as session:
        try:
            create_user(session, username, password, role, display_name)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(f"user {username} created ({role})")


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Load the demo residents, technicians, officers and rota if the database is empty."""
    from hotline.registry.demo import load_demo

    state = db.state()
    with state.session_factory() as session:
        loaded = load_demo(session, state.settings.tz, utcnow())
        session.commit()
    click.echo("demo data loaded" if loaded else "database not empty: demo data not loaded")


COMMANDS = (import_csv_command, outbox_command, create_user_command, load_demo_command)


def register(app: Flask) -> None:
    """Attach the hotline's commands to `flask`."""
    from hotline.cli.aliyun import aliyun_templates_command
    from hotline.cli.retention import anonymise_cases_command
    from hotline.cli.simulate import register as register_simulate
    from hotline.cli.sms_templates import sms_templates_command
    from hotline.cli.staff import register as register_staff

    for command in COMMANDS:
        app.cli.add_command(command)
    app.cli.add_command(aliyun_templates_command)
    app.cli.add_command(anonymise_cases_command)
    app.cli.add_command(sms_templates_command)
    register_simulate(app.cli)
    register_staff(app.cli)
