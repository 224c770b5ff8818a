"""The console's edit forms for technicians, residents and officers: the importer's rules, one record at a time.

Cells are parsed by the same functions as `flask import-csv` (hotline/registry/csv_rows.py), so a number, a
coordinate or a date the importer refuses is refused here too, with the console's wording. A form
with any error changes nothing: values are checked first and only then written by `apply`.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from hotline.console.i18n import translate
from hotline.registry.csv_rows import CellError, parse_birth_date, parse_number, parse_phone, parse_phones
from models import (
    CATEGORY_CODES,
    OFFICER_ROLES,
    RESIDENT_FLAGS,
    Officer,
    Resident,
    ResidentPhone,
    ServiceProvider,
    Technician,
    officer_by_phone,
    technician_by_phone,
)
from models.phone import mask


class Form:
    """One submitted form being checked: cleaned `values`, resident `phones`, and `errors` as messages."""

    def __init__(self, data, model):
        self.data, self.model = data, model
        self.values: dict = {}
        self.phones: list[str] | None = None
        self.errors: list[str] = []

    @property
    def ok(self) -> bool:
        """True when every field passed."""
        return not self.errors

    def error(self, field: str, key: str, **params) -> None:
        """Record a message about `field` in the request's language."""
        self.errors.append(translate(f"people.err_{key}", field=translate(f"people.field_{field}"), **params))

    def raw(self, field: str) -> str:
        """The submitted text of a field, trimmed."""
        return (self.data.get(field) or "").strip()

    def text(self, field: str, required: bool = False) -> None:
        """A free-text field, required or not, no longer than its column."""
        value = self.raw(field)
        limit = self.model.__table__.c[field].type.length
        if required and not value:
            self.error(field, "required")
        elif len(value) > limit:
            self.error(field, "too_long", limit=limit)
        self.values[field] = value

    def parse(self, field: str, parser, required: bool = False, raw: str | None = None):
        """A field run through one of the importer's cell parsers; None when blank or refused."""
        text = self.raw(field) if raw is None else raw
        if not text:
            if required:
                self.error(field, "required")
            return None
        try:
            return parser(text)
        except CellError as exc:
            self.error(field, exc.key, **exc.params)
            return None

    def coords(self) -> None:
        """Latitude and longitude: both within range, or both blank (no known location)."""
        lat_raw, lng_raw = self.raw("lat"), self.raw("lng")
        if bool(lat_raw) != bool(lng_raw):
            self.error("lat", "coords_pair")
            return
        lat = self.parse("lat", lambda raw: parse_number(raw, -90, 90))
        lng = self.parse("lng", lambda raw: parse_number(raw, -180, 180))
        self.values["lat"], self.values["lng"] = lat, lng


def _unique_phone(form: Form, phone: str | None, owner, record) -> None:
    """Refuse a number that already belongs to another record of the same kind."""
    if phone is None:
        return
    form.values["phone"] = phone
    if owner is not None and owner is not record:
        form.error("phone", "phone_taken", value=mask(phone), name=owner.name, id=owner.id)


def check_technician(session: Session, data, record: Technician | None) -> Form:
    """Check a technician form (`record` None for a new one)."""
    form = Form(data, Technician)
    form.text("name", required=True)
    form.text("community")
    form.coords()
    chosen = set(data.getlist("skills"))
    skills = [code for code in CATEGORY_CODES if code in chosen]  # canonical order, as the importer stores
    if not skills:
        form.error("skills", "no_skill")
    form.values["skills"] = ";".join(skills)
    if "provider" in data:  # a form without the field leaves the technician's provider alone
        raw = form.raw("provider")
        provider = session.get(ServiceProvider, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if raw and provider is None:
            form.errors.append(translate("services.err_provider"))
        form.values["provider_id"] = provider.id if provider is not None else None
    phone = form.parse("phone", parse_phone, required=True)
    _unique_phone(form, phone, technician_by_phone(session, phone), record)
    return form


def check_officer(session: Session, data, record: Officer | None) -> Form:
    """Check an officer form (`record` None for a new one)."""
    form = Form(data, Officer)
    form.text("name", required=True)
    role = form.raw("role") or "officer"
    if role not in OFFICER_ROLES:
        form.error("role", "unknown_role")
    form.values["role"] = role
    phone = form.parse("phone", parse_phone, required=True)
    _unique_phone(form, phone, officer_by_phone(session, phone), record)
    return form


def check_resident(session: Session, data, record: Resident | None, today: date) -> Form:
    """Check a resident form; `phones` holds one number a line (or separated as in the import files)."""
    form = Form(data, Resident)
    form.text("name", required=True)
    for field in ("address", "community", "emergency_contact"):
        form.text(field)
    form.coords()
    form.values["birth_date"] = form.parse("birth_date", lambda raw: parse_birth_date(raw, today))
    chosen = set(data.getlist("flags"))
    form.values.update({flag: flag in chosen for flag in RESIDENT_FLAGS})
    phones = form.parse("phones", parse_phones, required=True, raw=form.raw("phones").replace("\n", ";"))
    if phones:
        form.phones = phones
        taken = session.execute(select(ResidentPhone.phone, Resident.name, Resident.id)
                                .join(Resident, ResidentPhone.resident_id == Resident.id)
                                .where(ResidentPhone.phone.in_(phones))).all()
        for phone, name, owner_id in taken:
            if record is None or owner_id != record.id:
                form.error("phones", "phone_taken", value=mask(phone), name=name, id=owner_id)
    return form


def apply(record, form: Form) -> list[str]:
    """Write a checked form onto `record`; returns the names of the fields that changed."""
    changed = []
    for name, value in form.values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    if form.phones is not None and [p.phone for p in record.phones] != form.phones:
        session = object_session(record)
        if record.phones and session is not None:
            # The old rows go first: a number kept at a new place would otherwise trip its unique index.
            record.phones = []
            session.flush()
        # Rows in the typed order, since the first number is the one used for call-backs.
        record.phones = [ResidentPhone(phone=p) for p in form.phones]
        changed.append("phones")
    return changed


def fields_of(record) -> dict:
    """A record's values as the edit form shows them (what a GET fills in)."""
    if record is None:
        return {"skills": [], "flags": [], "role": "officer"}
    fields = {column: getattr(record, column) for column in record.__table__.c.keys()}
    for coord in ("lat", "lng"):
        if fields.get(coord) is None:
            fields[coord] = ""
    if isinstance(record, Technician):
        fields["skills"] = record.skill_list
    if isinstance(record, Resident):
        fields["flags"] = record.flags
        fields["phones"] = "\n".join(p.phone for p in record.phones)
        fields["birth_date"] = record.birth_date.isoformat() if record.birth_date else ""
    return fields


def fields_from(data) -> dict:
    """The submitted values as the form shows them again after an error."""
    fields = {key: data.get(key, "") for key in data}
    fields["skills"] = data.getlist("skills")
    fields["flags"] = data.getlist("flags")
    return fields


def today_in(tz) -> date:
    """Today's date in the bureau's zone (a birth date may not be later)."""
    return datetime.now(tz).date()
