"""Registry import in the console: the same CSV files and checks as `flask import-csv`, all or nothing.

Each kind belongs to the role that owns its registry, as on the registry's own pages: dispatchers import
residents and technicians, duty officers import officers, the rota and the case workers, admins import
everything. Each
successful import is recorded (who, kind, counts) in the log and the access log.
"""
from __future__ import annotations

import logging

from flask import Blueprint, render_template, request

from hotline import db
from hotline.console.auth import can, current_user, roles_required
from hotline.console.i18n import translate
from hotline.console.message_text import mask_numbers
from hotline.registry.importer import KINDS, RowError, import_csv
from models import AccessLog, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("imports", __name__, url_prefix="/console/import")

# A county's registry is a few thousand rows (well under 1 MB); below the app's 8 MB request limit so the
# clerk gets this page's message rather than a bare 413.
MAX_BYTES = 5 * 1024 * 1024
# An imported supervisor receives every child-line alert, so officers and the rota are the duty officers'
# alone, exactly as the officer and rota pages are (people.py, rota.py).
KIND_ROLES = {"residents": "dispatcher", "technicians": "dispatcher", "officers": "duty_officer",
              "rota": "duty_officer", "case_workers": "duty_officer",
              # Purchased services are the bureau's elderly-line staff's, as their pages (services.py).
              "service_providers": "dispatcher", "prices": "dispatcher", "subsidies": "dispatcher"}


def allowed_kinds() -> tuple[str, ...]:
    """The import kinds the current user may use: those of the registries their role owns."""
    return tuple(kind for kind in KINDS if can(KIND_ROLES[kind]))


def _form(kind: str = "", errors: list[RowError] | None = None, result=None, status: int = 200):
    return render_template("console/import/index.html", kinds=allowed_kinds(), kind=kind, errors=errors or [],
                           result=result, max_mb=MAX_BYTES // (1024 * 1024)), status


def _refuse(chosen: str, key: str, status: int = 400, **values):
    return _form(chosen, [RowError(0, translate(key, **values))], status=status)


@bp.get("/")
@roles_required("dispatcher", "duty_officer")
def index():
    """The upload form."""
    return _form()


@bp.post("/")
@roles_required("dispatcher", "duty_officer")
def upload():
    """Validate the whole file, then import it; any error imports nothing and lists every error by line."""
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        return _refuse("", "import.bad_kind")
    if kind not in allowed_kinds():
        return _refuse("", "import.kind_not_allowed", status=403, kind=translate(f"import.kind_{kind}"))
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _refuse(kind, "import.no_file")
    data = upload_file.read(MAX_BYTES + 1)
    if not data:
        return _refuse(kind, "import.empty_file")
    if len(data) > MAX_BYTES:
        return _refuse(kind, "import.too_large", mb=MAX_BYTES // (1024 * 1024))
    user = current_user().username
    session = db.session()
    result = import_csv(session, kind, data, db.settings().tz, actor=user)
    if result.errors:
        session.rollback()
        log.info("import of %s by %s refused: %d error(s), nothing imported", kind, user, len(result.errors))
        return _form(kind, result.errors, status=400)
    # The file name is the clerk's own words and may hold a number: masked like every logged text.
    detail = f"{kind}: {result.created} created, {result.updated} updated ({mask_numbers(upload_file.filename)[:100]})"
    session.add(AccessLog(at=utcnow(), actor=user, case_id=None, route=request.path[:200], action="import",
                          remote_addr=(request.remote_addr or "")[:64], reason=detail))
    session.commit()
    log.info("import by %s: %s", user, detail)
    return _form(kind, result=result)
