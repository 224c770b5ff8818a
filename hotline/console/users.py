"""Console users for admins: who has a login, create one, (de)activate, reset a password, end sessions.

Every action writes an access-log row (actor: the admin, reason: the user acted on) and a log line.
"""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from hotline import db
from hotline.console import sessions
from hotline.console.auth import current_user, roles_required
from hotline.console.clock import local_time
from hotline.console.i18n import translate
from hotline.registry.demo import forget_demo_login
from hotline.staff import UserRefused, create_user, set_password
from models import ROLES, AccessLog, StaffUser, open_session_counts

log = logging.getLogger(__name__)
bp = Blueprint("users", __name__, url_prefix="/console/users")


def _page(error: str | None = None, status: int = 200, form: dict | None = None):
    session_ = db.session()
    users = list(session_.scalars(select(StaffUser).order_by(StaffUser.username)))
    counts = open_session_counts(session_, *sessions.open_since())
    return render_template("console/users/index.html", users=users, counts=counts, roles=ROLES, error=error,
                           form=form or {}, local_time=local_time), status


def _record(action: str, target: StaffUser) -> None:
    """The access-log row and log line of one admin action (caller commits)."""
    actor = current_user().username
    db.session().add(AccessLog(actor=actor, route=request.path[:200], action=action,
                               remote_addr=(request.remote_addr or "")[:64], reason=target.username))
    log.info("console %s: %s by %s", action, target.username, actor)


def _target(user_id: int) -> StaffUser:
    user = db.session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


def _done(key: str, target: StaffUser):
    db.session().commit()
    flash(translate(key, name=target.username), "ok")
    return redirect(url_for("users.index"))


@bp.get("/")
@roles_required()  # admin only
def index():
    """Every console user with role, active, last login and open sessions."""
    return _page()


@bp.post("/")
@roles_required()
def create():
    """Add a user with a first password the admin tells them."""
    form = {name: request.form.get(name, "") for name in ("username", "display_name", "role")}
    try:
        user = create_user(db.session(), form["username"].strip(), request.form.get("password", ""), form["role"],
                           form["display_name"])
    except UserRefused as refused:
        return _page(refused.key, 400, form)
    db.session().flush()
    _record("user:create", user)
    return _done("users.created", user)


@bp.post("/<id:user_id>/active")
@roles_required()
def set_active(user_id: int):
    """Deactivate (ending every session at once) or activate again; never one's own account."""
    user = _target(user_id)
    active = request.form.get("active") == "1"
    if user.id == current_user().id and not active:
        return _page("users.not_yourself", 400)
    user.active = active
    if not active:
        sessions.end_all(user, "deactivated")
    _record("user:activate" if active else "user:deactivate", user)
    return _done("users.activated" if active else "users.deactivated", user)


@bp.post("/<id:user_id>/password")
@roles_required()
def reset_password(user_id: int):
    """A new password for a user who forgot theirs; their sessions end (an admin's own: a fresh one here)."""
    user = _target(user_id)
    try:
        set_password(user, request.form.get("password", ""))
    except UserRefused as refused:
        return _page(refused.key, 400)
    sessions.end_all(user, "password")
    forget_demo_login(db.settings().instance_path, user.username)
    if user.id == current_user().id:
        sessions.start(user)
    _record("user:reset-password", user)
    return _done("users.password_reset", user)


@bp.post("/<id:user_id>/sessions/end")
@roles_required()
def end_sessions(user_id: int):
    """Sign a user out on every browser (a PC left signed in, a suspected leak)."""
    user = _target(user_id)
    sessions.end_all(user, "admin")
    _record("user:end-sessions", user)
    return _done("users.sessions_ended", user)
