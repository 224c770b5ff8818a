"""Activating or deactivating a registry row from a console form (`active` = 1 or 0); rows are never deleted."""
from __future__ import annotations

import logging

from flask import abort, flash, request

from hotline import db
from hotline.console.auth import current_user
from hotline.console.i18n import translate


def set_active(record, page: str, noun: str, log: logging.Logger) -> None:
    """Set `record.active` from the form, commit, log and flash it (texts `<page>.activated` etc.); 400 on garbage."""
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400, description=translate(f"{page}.err_active"))
    record.active = wanted == "1"
    db.session().commit()
    log.info(f"console %s %s {noun} %d", current_user().username,
             "activated" if record.active else "deactivated", record.id)
    flash(translate(f"{page}.activated" if record.active else f"{page}.deactivated", name=record.name))
