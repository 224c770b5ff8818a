"""Console logins: password hashes, roles, the login form with its rate limit, CSRF on every form."""
from __future__ import annotations

import hmac
import logging
import secrets
from functools import lru_cache, wraps

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import ROLES, StaffUser, user_by_name, utcnow

from .. import db

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console")

MAX_FAILURES = 5          # failed logins per user name, and per address, before the form locks
LOCK_SECONDS = 15 * 60    # how long the lock (and the failure count) lasts


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when the user does not exist, so both cases take the same time (made on first use,
    # not at import: scrypt is deliberately slow).
    return generate_password_hash("not-a-password")


def create_user(session_: Session, username: str, password: str, role: str, display_name: str = "") -> StaffUser:
    """Add a console user (caller commits); refuses an unknown role, a taken name or a short password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise ValueError("user name must be 1-64 characters")
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    if user_by_name(session_, username):
        raise ValueError(f"user {username} already exists")
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                     display_name=display_name or username, created_at=utcnow())
    session_.add(user)
    return user


def current_user() -> StaffUser | None:
    """The logged-in, still active user of this request, if any."""
    if "staff_user" not in g:
        user_id = session.get("user_id")
        user = db.session().get(StaffUser, user_id) if user_id else None
        g.staff_user = user if user is not None and user.active else None
    return g.staff_user


def roles_required(*roles: str):
    """A view only for logged-in users of these roles (admin always); others get the login page or 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("console.login", next=request.full_path))
            if user.role != "admin" and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def can(*roles: str) -> bool:
    """Whether the current user has one of these roles (admin always can); for templates and views."""
    user = current_user()
    return user is not None and (user.role == "admin" or user.role in roles)


def csrf_token() -> str:
    """This session's CSRF token (made on first use); every console form and fetch carries it."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Before every state-changing console request: the form field or X-CSRF-Token header must match."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(given, expected):
        abort(400, description="CSRF token missing or wrong; reload the page and try again.")


def _redis():
    return current_app.extensions["hotline"].queue.connection


def _failure_keys(username: str) -> list[str]:
    return [f"hotline:login-fail:user:{username.lower()[:64]}", f"hotline:login-fail:addr:{request.remote_addr}"]


def _locked(username: str) -> bool:
    counts = _redis().mget(_failure_keys(username))
    return any(int(c or 0) >= MAX_FAILURES for c in counts)


def _record_failure(username: str) -> None:
    pipe = _redis().pipeline()
    for key in _failure_keys(username):
        pipe.incr(key)
        pipe.expire(key, LOCK_SECONDS)
    pipe.execute()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; after MAX_FAILURES failures for a name or an address, locked for LOCK_SECONDS."""
    error, status = None, 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        if _locked(username):
            error, status = "auth.locked", 429
        else:
            user = user_by_name(db.session(), username)
            ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
            if user is not None and user.active and ok:
                session.clear()  # a new session id for the new identity
                session["user_id"] = user.id
                user.last_login_at = utcnow()
                db.session().commit()
                log.info("console login: %s (%s)", user.username, user.role)
                return redirect(_safe_next(request.args.get("next")))
            _record_failure(username)
            error, status = "auth.wrong", 401
    return render_template("console/login.html", error=error), status


def _safe_next(target: str | None) -> str:
    # Only paths inside the console: never an absolute URL (an open redirect).
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.home")


@bp.post("/logout")
def logout():
    """End the session."""
    session.clear()
    return redirect(url_for("console.login"))


@bp.get("/")
def home():
    """Each role's first page."""
    user = current_user()
    if user is None:
        return redirect(url_for("console.login"))
    if user.role == "duty_officer":
        return redirect(url_for("casework.index"))
    return redirect(url_for("board.index"))
