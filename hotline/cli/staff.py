"""`flask set-password` and `flask deactivate-user`: console accounts from the server's shell."""
from __future__ import annotations

import logging
import sys

import click
from flask.cli import with_appcontext

from hotline import db
from models import AccessLog, StaffUser, end_user_sessions, user_by_name

log = logging.getLogger(__name__)


def _read_password() -> str:
    """Prompted for twice on a terminal; one line from stdin when piped (as `create-user`)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _user(session, username: str) -> StaffUser:
    user = user_by_name(session, username)
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


def _record(session, action: str, user: StaffUser, reason: str) -> int:
    """End the user's sessions and log who did what from the command line (caller commits)."""
    ended = end_user_sessions(session, user.id, reason)
    session.add(AccessLog(actor="cli", route=f"flask {action.split(':')[1]}", action=action, reason=user.username))
    log.info("console %s: %s from the command line, %d session(s) ended", action, user.username, ended)
    return ended


@click.command("set-password")
@click.argument("username")
@with_appcontext
def set_password_command(username: str) -> None:
    """Give a console user a new password; every session of theirs ends."""
    from hotline.registry.demo import forget_demo_login
    from hotline.staff import set_password

    password = _read_password()
    state = db.state()
    with state.session_factory() as session:
        user = _user(session, username)
        try:
            set_password(user, password)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        ended = _record(session, "user:set-password", user, "password")
        session.commit()
    forget_demo_login(state.settings.instance_path, username)
    click.echo(f"password of {username} set; {ended} session(s) ended")


@click.command("deactivate-user")
@click.argument("username")
@with_appcontext
def deactivate_user_command(username: str) -> None:
    """Stop a console user from signing in; every session of theirs ends at once."""
    with db.state().session_factory() as session:
        user = _user(session, username)
        user.active = False
        ended = _record(session, "user:deactivate", user, "deactivated")
        session.commit()
    click.echo(f"user {username} deactivated; {ended} session(s) ended")


COMMANDS = (set_password_command, deactivate_user_command)


def register(cli) -> None:
    """Attach the account commands to `flask`."""
    for command in COMMANDS:
        cli.add_command(command)
