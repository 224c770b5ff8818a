"""The price list (per category, and per provider) and the subsidy rules (per resident class) in the console.

Each page shows what is in force today and the whole history. A change is a NEW dated row (never an edit of an
old one) recorded with who made it; it may start today or later, or on a past day of a month no closed statement
covers (dispatch/service_rules.py). Admins and dispatchers, as the providers' pages (services.py).
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.service_rules import day_refused, existing_price, existing_subsidy, price_history, subsidy_history
from hotline import db
from hotline.console.auth import current_user, roles_required
from hotline.console.i18n import translate
from hotline.registry.csv_rows import CellError
from hotline.registry.service_rows import (
    CATEGORY_NAMES,
    CLASS_NAMES,
    parse_day,
    parse_minutes,
    parse_percent,
    parse_yuan,
)
from models import PriceRule, ServiceProvider, SubsidyRule

log = logging.getLogger(__name__)
bp = Blueprint("service_rules", __name__, url_prefix="/console/services")


def _today():
    return datetime.now(db.settings().tz).date()


def _states(rules: list, key) -> dict[int, str]:
    """Each rule's state today: `future`, `in_force` (the newest started one of its key) or `superseded`."""
    today, seen, states = _today(), set(), {}
    for rule in sorted(rules, key=lambda r: (r.valid_from, r.id), reverse=True):
        if rule.valid_from > today:
            states[rule.id] = "future"
        elif key(rule) in seen:
            states[rule.id] = "superseded"
        else:
            seen.add(key(rule))
            states[rule.id] = "in_force"
    return states


def _parse(data, field: str, parser, errors: list[str], required: bool = True):
    raw = (data.get(field) or "").strip()[:40]
    if not raw:
        if required:
            errors.append(translate("services.err_required", field=translate(f"services.field_{field}")))
        return None
    try:
        return parser(raw)
    except CellError:
        errors.append(translate(f"services.err_{field}"))
        return None


def _check_day(day, provider_id, errors: list[str]) -> None:
    if day is not None and (first := day_refused(db.session(), day, provider_id)) is not None:
        errors.append(translate("services.err_day_closed", first=first.isoformat()))


def _providers():
    return db.session().scalars(select(ServiceProvider).order_by(ServiceProvider.active.desc(),
                                                                 ServiceProvider.name)).all()


def _prices_page(errors: list[str] | None = None, form=None):
    session = db.session()
    rules = price_history(session)
    states = _states(rules, lambda r: (r.category, r.provider_id))
    return render_template("console/services/prices.html", rules=rules, states=states, providers=_providers(),
                           errors=errors or [], form=form or {"valid_from": _today().isoformat()}), \
        400 if errors else 200


@bp.get("/prices")
@roles_required("dispatcher")
def prices():
    """The price list: in force today per category and provider, the history, and the form for a new price."""
    return _prices_page()


@bp.post("/prices")
@roles_required("dispatcher")
def add_price():
    """A new dated price row; an existing row of the same key and day is never overwritten."""
    errors: list[str] = []
    category = request.form.get("category", "")
    if category not in CATEGORY_NAMES:
        errors.append(translate("services.err_category"))
    provider_id = None
    raw_provider = request.form.get("provider", "")
    if raw_provider:
        provider = db.session().get(ServiceProvider, int(raw_provider)) if raw_provider.isdigit() and \
            len(raw_provider) < 10 else None
        if provider is None:
            errors.append(translate("services.err_provider"))
        else:
            provider_id = provider.id
    price = _parse(request.form, "price", parse_yuan, errors)
    minutes = _parse(request.form, "min_minutes", parse_minutes, errors, required=False) or 0
    day = _parse(request.form, "valid_from", parse_day, errors)
    _check_day(day, provider_id, errors)
    if not errors and existing_price(db.session(), category, provider_id, day) is not None:
        errors.append(translate("services.err_rule_exists", day=day.isoformat()))
    if errors:
        return _prices_page(errors, {k: (request.form.get(k) or "")[:40] for k in
                                     ("category", "provider", "price", "min_minutes", "valid_from")})
    user = current_user().username
    rule = PriceRule(category=category, provider_id=provider_id, price_fen=price, min_minutes=minutes,
                     valid_from=day, created_by=user)
    return _save(rule, "prices", f"price {category} provider {provider_id} {price} fen from {day} by {user}")


def _save(rule, page: str, detail: str):
    session = db.session()
    session.add(rule)
    try:
        session.commit()
    except IntegrityError:  # the same key and day were added meanwhile
        session.rollback()
        flash(translate("services.err_conflict"), "error")
        return redirect(url_for(f"service_rules.{page}"), code=303)
    log.info("console: new %s", detail)
    flash(translate("services.rule_added", day=rule.valid_from.isoformat()))
    return redirect(url_for(f"service_rules.{page}"), code=303)


def _subsidies_page(errors: list[str] | None = None, form=None):
    rules = subsidy_history(db.session())
    states = _states(rules, lambda r: r.resident_class)
    return render_template("console/services/subsidies.html", rules=rules, states=states, errors=errors or [],
                           form=form or {"valid_from": _today().isoformat()}), 400 if errors else 200


@bp.get("/subsidies")
@roles_required("dispatcher")
def subsidies():
    """The subsidy rules: in force today per resident class, the history, and the form for a new rule."""
    return _subsidies_page()


@bp.post("/subsidies")
@roles_required("dispatcher")
def add_subsidy():
    """A new dated subsidy rule row; an existing row of the same class and day is never overwritten."""
    errors: list[str] = []
    resident_class = request.form.get("resident_class", "")
    if resident_class not in CLASS_NAMES:
        errors.append(translate("services.err_resident_class"))
    share = _parse(request.form, "share_percent", parse_percent, errors)
    cap = _parse(request.form, "monthly_cap", parse_yuan, errors, required=False)
    day = _parse(request.form, "valid_from", parse_day, errors)
    _check_day(day, None, errors)
    if not errors and existing_subsidy(db.session(), resident_class, day) is not None:
        errors.append(translate("services.err_rule_exists", day=day.isoformat()))
    if errors:
        return _subsidies_page(errors, {k: (request.form.get(k) or "")[:40] for k in
                                        ("resident_class", "share_percent", "monthly_cap", "valid_from")})
    user = current_user().username
    rule = SubsidyRule(resident_class=resident_class, share_percent=share, monthly_cap_fen=cap, valid_from=day,
                       created_by=user)
    return _save(rule, "subsidies", f"subsidy {resident_class} {share}% cap {cap} from {day} by {user}")
