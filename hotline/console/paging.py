"""Pages of long console tables: `?page=N`, a fixed page size, and links that keep the filters."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hotline.params import int_arg

MAX_PAGE = 100_000  # far beyond any table's last page; keeps OFFSET small


@dataclass
class Page:
    """One page of rows and where the neighbouring pages are."""

    items: list
    number: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.number > 1

    def url(self, number: int) -> str:
        """This view's URL for page `number`, with the request's filters kept."""
        args = {**request.args.to_dict(), **(request.view_args or {}), "page": number}
        return url_for(request.endpoint, **args)


def page_number() -> int:
    """The `?page=` of this request: 1 when missing, at most MAX_PAGE, 400 when not a whole number."""
    return int_arg("page", 1, 1, MAX_PAGE)


def paginate(session: Session, query: Select, per_page: int = 50, scalars: bool = True) -> Page:
    """Run `query` (already ordered) for this request's page; one extra row tells whether a next page exists."""
    number = page_number()
    limited = query.limit(per_page + 1).offset((number - 1) * per_page)
    rows = list(session.scalars(limited) if scalars else session.execute(limited))
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)
