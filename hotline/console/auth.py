"""Console logins: password hashes, roles, the login form with its guessing limits, CSRF on every form."""
from __future__ import annotations

import hmac
import logging
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from redis.exceptions import RedisError
from werkzeug.security import check_password_hash

from hotline import db
from hotline.console import login_limits, sessions
from hotline.console.i18n import translate
from hotline.staff import MAX_PASSWORD, _dummy_hash, plausible_username
from models import StaffUser, user_by_name, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console")

MAX_NEXT = 2000


def current_user() -> StaffUser | None:
    """The signed-in, still active user of this request, if any (one lookup per request)."""
    if "staff_user" not in g:
        g.staff_user = sessions.resolve()
    return g.staff_user


def _wants_json() -> bool:
    # fetch() from a page (board refresh, softphone polling, hotline.post): an answer it can act on, not a
    # login page pasted into a table.
    return (request.endpoint in sessions.PASSIVE_ENDPOINTS or "X-CSRF-Token" in request.headers
            or request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate"
            or request.accept_mimetypes.best == "application/json")


def sign_in_first():
    """The answer for a visitor who is not signed in: the login page (saying why, if a session ended) or 401."""
    ended = g.get("session_ended", False) or bool(session.get(sessions.ENDED_KEY))
    if _wants_json():
        return {"error": translate("auth.session_ended" if ended else "auth.sign_in")}, 401
    session.pop(sessions.ENDED_KEY, None)
    if ended:
        flash(translate("auth.session_ended"), "info")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.login", next=target))


def roles_required(*roles: str):
    """A view only for signed-in users of these roles (admin always); others get the login page or 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return sign_in_first()
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


def guard_request() -> None:
    """Before every console view (after params.refuse_nul): find the session, check the CSRF token."""
    current_user()  # the session lookup (and its commit) happens before the view touches the database
    check_csrf()


def check_csrf() -> None:
    """Before every state-changing console request: the form field or X-CSRF-Token header must match."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters (a forged token would be a 500).
    if not expected or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        abort(400, description="CSRF token missing or wrong; reload the page and try again.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a name locks after MAX_FAILURES guesses, an address slows down after ADDRESS_PER_MINUTE."""
    error, status, headers = None, 200, {}
    if request.method == "POST":
        try:
            return _sign_in()
        except RedisError as exc:
            # Without the counters every guess would go unchecked: refuse (fail closed) until Redis is back.
            log.error("console login refused: Redis unavailable (%s)", type(exc).__name__)
            error, status = "auth.unavailable", 503
    return render_template("console/login.html", error=error), status, headers


def _sign_in():
    """One sign-in attempt: the address's rate, the name's count, then (only then) the password."""
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    wait = login_limits.address_wait(request.remote_addr or "")
    if wait:
        return render_template("console/login.html", error="auth.slow_down"), 429, {"Retry-After": str(wait)}
    if not plausible_username(username) or len(password) > MAX_PASSWORD:
        return _refused("auth.wrong", 401)  # no such user can exist: nothing to look up or check
    if not login_limits.user_may_try(username):
        return _refused("auth.locked", 429)
    user = user_by_name(db.session(), username)
    # An unknown name is checked against a dummy hash, so both answers take the same time.
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active or not ok:
        return _refused("auth.wrong", 401)
    login_limits.clear_user(username)
    sessions.start(user)
    user.last_login_at = utcnow()
    db.session().commit()
    log.info("console login: %s (%s)", user.username, user.role)
    return redirect(safe_next(request.args.get("next")))


def _refused(key: str, status: int):
    return render_template("console/login.html", error=key), status


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path inside the console, else the role's first page.

    Never an absolute URL (an open redirect), a backslash (browsers read it as a slash) or a control
    character (a CR/LF would split the Location header)."""
    home = url_for("console.home")
    if (not target or len(target) > MAX_NEXT or not target.startswith("/console/") or "\\" in target
            or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        return home
    parts = urlsplit(target)
    return home if parts.scheme or parts.netloc else target


@bp.post("/logout")
def logout():
    """End this browser's session on the server, not only in the cookie."""
    current_user()
    sessions.end_current("logout")
    return redirect(url_for("console.login"))


@bp.get("/")
def home():
    """Each role's first page."""
    user = current_user()
    if user is None:
        return sign_in_first()
    if user.role == "duty_officer":
        return redirect(url_for("casework.index"))
    return redirect(url_for("board.index"))
