"""Every signed-in user's own account: change my password (which signs out every other browser)."""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash

from hotline import db
from hotline.console import login_limits, sessions
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import translate
from hotline.registry.demo import forget_demo_login
from hotline.staff import MAX_PASSWORD, UserRefused, check_new_password, set_password

log = logging.getLogger(__name__)
bp = Blueprint("account", __name__, url_prefix="/console/account")


def _form(error: str | None = None, status: int = 200):
    return render_template("console/account/password.html", error=error), status


@bp.route("/password", methods=["GET", "POST"])
@roles_required("dispatcher", "duty_officer")  # every role
def password():
    """Change my password: the current one first; every session of mine ends, this browser gets a new one."""
    if request.method == "GET":
        return _form()
    user = current_user()
    current = request.form.get("current_password", "")
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    if new != again:
        return _form("account.mismatch", 400)
    try:
        check_new_password(new)
    except UserRefused as refused:
        return _form(refused.key, 400)
    # The current password is a guess like any other: it counts against the name's limit.
    if len(current) > MAX_PASSWORD:
        return _form("account.wrong_current", 400)
    if not login_limits.user_may_try(user.username):
        return _form("auth.locked", 429)
    if not check_password_hash(user.password_hash, current):
        return _form("account.wrong_current", 400)
    set_password(user, new)
    login_limits.clear_user(user.username)
    sessions.end_all(user, "password")
    forget_demo_login(db.settings().instance_path, user.username)
    sessions.start(user)
    db.session().commit()
    log.info("console password changed by %s", user.username)
    flash(translate("account.changed"), "ok")
    return redirect(url_for("console.home"))
