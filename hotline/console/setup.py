"""Wiring of the console into the app: cookies, CSRF, template helpers, the pages' blueprints."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from hotline import params
from hotline.console import (
    account,
    audit,
    auth,
    board,
    case_export,
    case_reports,
    case_tasks,
    casework,
    imports,
    intake,
    outbox,
    payments,
    people,
    reports,
    rota,
    service_reports,
    service_rules,
    services,
    settlement,
    softphone,
    users,
    workers,
)
from hotline.console.event_text import actor_name, event_detail
from hotline.console.i18n import current_language, translate, translate_literal
from models.phone import mask

PAGES = (board, payments, people, rota, workers, casework, case_export, intake, case_tasks, imports, outbox, reports,
         case_reports, softphone, audit, users, account, services, service_rules, settlement, service_reports)

# The navigation bar: (endpoint, text key, roles that see it; admin sees all).
NAV = (
    ("board.index", "nav.orders", ("dispatcher",)),
    ("people.technicians", "nav.technicians", ("dispatcher",)),
    ("payments.missing", "payment.nav", ("dispatcher",)),
    ("people.residents", "nav.residents", ("dispatcher",)),
    ("services.index", "services.nav", ("dispatcher",)),
    ("people.officers", "nav.officers", ("duty_officer",)),
    ("workers.index", "workers.nav", ("duty_officer",)),
    ("rota.index", "nav.rota", ("duty_officer",)),
    ("casework.index", "nav.cases", ("duty_officer",)),
    ("imports.index", "nav.import", ("dispatcher", "duty_officer")),
    ("outbox.index", "nav.outbox", ("dispatcher", "duty_officer")),
    ("reports.index", "nav.reports", ("dispatcher", "duty_officer")),
    ("settlement.index", "settlement.nav", ("dispatcher",)),
    ("softphone.index", "nav.softphone", ("dispatcher", "duty_officer")),
    ("audit.index", "nav.audit", ()),
    ("users.index", "nav.users", ()),
)


class ConsoleSessions(SecureCookieSessionInterface):
    """The signed session cookie belongs to the console: webhooks and the API neither read nor set it, so a
    webhook does not pay for building the cookie's signer on every request."""

    def open_session(self, app, request):
        """The console's session; an empty, read-only one anywhere else."""
        if not request.path.startswith("/console"):
            return self.null_session_class()
        return super().open_session(app, request)


def register(app: Flask) -> None:
    """Attach the console to the app."""
    app.session_interface = ConsoleSessions()
    https = app.extensions["hotline"].settings.public_base_url.startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=https, SESSION_COOKIE_NAME="hotline_console")
    params.register(app)  # <id:...> in the pages' routes
    blueprints = (auth.bp, *(page.bp for page in PAGES), case_export.identified_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    console_names = {bp.name for bp in blueprints}

    @app.before_request
    def console_csrf():
        if request.blueprint in console_names:
            auth.guard_request()

    @app.errorhandler(HTTPException)
    def console_error(error: HTTPException):
        # Console pages get a page in the console's language; webhooks and the API keep their answers.
        if not request.path.startswith("/console") or error.code is None or error.code < 400:
            return error
        key = {403: "base.forbidden", 404: "base.not_found"}.get(error.code)
        message = translate(key) if key else (error.description or translate("base.bad_request"))
        return render_template("console/error.html", code=error.code, message=message), error.code

    @app.context_processor
    def console_helpers():
        if not request.path.startswith("/console"):
            return {}
        return {"t": translate, "lang": current_language(), "csrf_token": auth.csrf_token,
                "current_user": auth.current_user(), "can": auth.can, "mask": mask, "nav": NAV,
                "event_detail": event_detail, "actor_name": actor_name, "t_code": translate_literal}
