"""Phones, forms and table readers shared by the console's registry-page tests (technicians, residents, officers)."""
from __future__ import annotations

import re

TECH_PHONE = "+8613904760001"
OTHER_TECH_PHONE = "+8613904760002"


def table(html: str, table_id: str) -> str:
    """The HTML of one table of a page."""
    match = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert match, f"no table#{table_id}"
    return match.group(0)


def row_ids(html: str, table_id: str, attr: str = "data-id") -> list[int]:
    """The record ids of a table's rows, in page order."""
    return [int(i) for i in re.findall(rf'{attr}="(\d+)"', table(html, table_id))]


def tech_form(**changes) -> dict:
    """A valid technician form, with some fields changed."""
    form = {"name": "李师傅", "phone": "139 0476 0001", "community": "向阳社区", "skills": ["housekeeping"],
            "lat": "43.98", "lng": "119.39"}
    form.update(changes)
    return form


def post(client, url, form):
    """POST a console form with the session's CSRF token."""
    return client.post(url, data={**form, "csrf_token": client.csrf})
