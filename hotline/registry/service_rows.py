"""Rows of the purchased-services files: service providers (服务商), the price list and the subsidy rules.

  service_providers  name 名称 (also 服务商, 服务商名称, 姓名) | contact_name 联系人 | contact_phone 联系电话 |
                     contract_start 合同开始 | contract_end 合同结束 | active 启用 (also 在岗)
  prices             category 服务类别 | provider 服务商 (blank: every provider) | price 价格（元） |
                     min_minutes 最短时长（分钟） | valid_from 生效日期
  subsidies          resident_class 老人类别 | share_percent 补贴比例 | monthly_cap 每月上限（元） | valid_from 生效日期

Required: name (providers); category, price, valid_from (prices); resident_class, share_percent, valid_from
(subsidies). Providers are matched by name; a missing column leaves that field of an existing provider alone.
Money is in yuan with at most two decimals (20, 20.5, 20.50元, ¥20) and becomes integer fen; a blank min_minutes
is 0, a blank monthly_cap is no cap. Days: 2026-12-01, 2026/12/1 or 2026年12月1日. Categories: codes, keys 1-5 or
生活照料 家政服务 精神慰藉 法律维护 紧急救援. Classes: hardship advanced_age empty_nest left_behind other or
困难 高龄 空巢 留守 其他.

Rules are never edited (dispatch/service_rules.py): a row for a day that already has a rule of the same key is
accepted only if it says the same (a re-imported file changes nothing), and a day inside a closed month is refused.
"""
from __future__ import annotations

import re
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.service_rules import day_refused, existing_price, existing_subsidy
from hotline.registry.csv_rows import CellError, Row, RowError, Table, parse_active, parse_choice, parse_phone
from models import CATEGORIES, RESIDENT_CLASSES, PriceRule, ServiceProvider, SubsidyRule
from models.phone import mask_text

# The file layout of each kind for read_table: columns, required columns, header spellings beyond COLUMN_ZH.
SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "service_providers": (("name", "contact_name", "contact_phone", "contract_start", "contract_end", "active"),
                          ("name",), {"名称": "name", "服务商": "name", "服务商名称": "name",
                                      "联系人电话": "contact_phone", "启用": "active",
                                      "合同开始日期": "contract_start", "合同结束日期": "contract_end"}),
    "prices": (("category", "provider", "price", "min_minutes", "valid_from"), ("category", "price", "valid_from"),
               {"类别": "category", "价格": "price", "price_yuan": "price", "最短时长": "min_minutes",
                "服务商名称": "provider"}),
    "subsidies": (("resident_class", "share_percent", "monthly_cap", "valid_from"),
                  ("resident_class", "share_percent", "valid_from"),
                  {"类别": "resident_class", "share": "share_percent", "补贴比例（%）": "share_percent",
                   "monthly_cap_yuan": "monthly_cap", "每月上限": "monthly_cap"}),
}
CATEGORY_NAMES = {"daily_care": "生活照料", "housekeeping": "家政服务", "companionship": "精神慰藉",
                  "legal_aid": "法律维护", "emergency": "紧急救援"}
CLASS_NAMES = {"hardship": "困难", "advanced_age": "高龄", "empty_nest": "空巢", "left_behind": "留守",
               "other": "其他"}
_CATEGORIES = {**{c: c for c in CATEGORY_NAMES}, **CATEGORIES, **{zh: c for c, zh in CATEGORY_NAMES.items()},
               "家政维修": "housekeeping"}
_CLASSES = {**{c: c for c in RESIDENT_CLASSES}, **{zh: c for c, zh in CLASS_NAMES.items()}}
parse_category = partial(parse_choice, choices=_CATEGORIES, key="unknown_category")
parse_resident_class = partial(parse_choice, choices=_CLASSES, key="unknown_resident_class")

_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00)?)?")
_YUAN = re.compile(r"[¥￥]?\s*(\d{1,7})(?:\.(\d{1,2}))?\s*元?")
_WHOLE = re.compile(r"(\d{1,9})(?:\.0+)?")
MAX_MINUTES = 24 * 60  # no visit has a longer minimum; a larger number is a typo


def parse_day(raw: str) -> date:
    """A calendar day as 2026-12-01, 2026/12/1 or 2026年12月1日."""
    match = _DAY.fullmatch(raw)
    try:
        return date(*(int(g) for g in match.groups())) if match else _bad_day()
    except ValueError:
        return _bad_day()


def _bad_day() -> date:
    raise CellError("invalid_day")


def parse_yuan(raw: str) -> int:
    """An amount in yuan (at most two decimals) as integer fen, never through a float."""
    match = _YUAN.fullmatch(raw.strip())
    if not match:
        raise CellError("invalid_yuan")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def parse_percent(raw: str) -> int:
    """A whole percentage from 0 to 100 (`50`, `50%`, Excel's `50.0`)."""
    match = _WHOLE.fullmatch(raw.strip().rstrip("%％").strip())
    if not match or int(match.group(1)) > 100:
        raise CellError("invalid_percent")
    return int(match.group(1))


def parse_minutes(raw: str) -> int:
    """A whole number of minutes from 0 to MAX_MINUTES."""
    match = _WHOLE.fullmatch(raw.strip())
    if not match or int(match.group(1)) > MAX_MINUTES:
        raise CellError("invalid_minutes", limit=MAX_MINUTES)
    return int(match.group(1))


def provider_by_name(session: Session, name: str) -> ServiceProvider | None:
    """The provider registered under exactly this name."""
    return session.scalar(select(ServiceProvider).where(ServiceProvider.name == name))


def _limit(model: Any, column: str) -> int:
    return model.__table__.c[column].type.length


def plan_providers(session: Session, table: Table, errors: list[RowError]) -> list[tuple[Any, Any, dict]]:
    """Validate every row of a providers file: (model, existing provider or None, values) per good row."""
    planned: list[tuple[Any, Any, dict]] = []
    names: dict[str, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        name = row.text("name", _limit(ServiceProvider, "name"))
        if not name:
            row.error("required", col="name", zh_col="名称")  # a company's name, not a person's 姓名
        values: dict = {"name": name}
        if row.has("contact_name"):
            values["contact_name"] = row.text("contact_name", _limit(ServiceProvider, "contact_name"))
        if row.has("contact_phone"):
            values["contact_phone"] = row.parse("contact_phone", parse_phone) or ""
        for column in ("contract_start", "contract_end"):
            if row.has(column):
                values[column] = row.parse(column, parse_day)
        if values.get("contract_start") and values.get("contract_end") and \
                values["contract_end"] < values["contract_start"]:
            row.error("contract_end_before_start")
        if row.has("active"):
            active = row.parse("active", parse_active)
            values["active"] = True if active is None else active
        if name in names:
            row.error("duplicate_name", other=names[name])
        names.setdefault(name, line)
        if not row.failed:
            planned.append((ServiceProvider, provider_by_name(session, name), values))
    return planned


def _dated(session: Session, row: Row, day: date | None, provider_id: int | None) -> None:
    if day is not None and (first := day_refused(session, day, provider_id)) is not None:
        row.error("day_closed", first=first.isoformat())


def _keep_or_add(row: Row, model: Any, existing: Any, values: dict, planned: list) -> None:
    """A rule of the same key and day is never edited: the same values change nothing, others are refused."""
    if existing is None:
        planned.append((model, None, values))
    elif all(getattr(existing, k) == v for k, v in values.items()):
        planned.append((model, existing, {}))
    else:
        row.error("rule_exists", day=values["valid_from"].isoformat())


def plan_prices(session: Session, table: Table, errors: list[RowError]) -> list[tuple[Any, Any, dict]]:
    """Validate every row of a price-list file: (PriceRule, existing identical rule or None, values) per good row."""
    planned: list[tuple[Any, Any, dict]] = []
    keys: dict[tuple, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        category = row.parse("category", parse_category, required=True)
        provider_id = None
        if row.cells.get("provider"):
            provider = provider_by_name(session, row.cells["provider"])
            if provider is None:
                row.error("unknown_provider", value=mask_text(row.cells["provider"])[:40])
            else:
                provider_id = provider.id
        price = row.parse("price", parse_yuan, required=True)
        minutes = row.parse("min_minutes", parse_minutes) or 0
        day = row.parse("valid_from", parse_day, required=True)
        _dated(session, row, day, provider_id)
        if row.failed or category is None or day is None:
            continue
        key = (category, provider_id, day)
        if key in keys:
            row.error("duplicate_rule", other=keys[key])
            continue
        keys[key] = line
        values = {"category": category, "provider_id": provider_id, "price_fen": price, "min_minutes": minutes,
                  "valid_from": day}
        _keep_or_add(row, PriceRule, existing_price(session, category, provider_id, day), values, planned)
    return planned


def plan_subsidies(session: Session, table: Table, errors: list[RowError]) -> list[tuple[Any, Any, dict]]:
    """Validate every row of a subsidy-rules file: (SubsidyRule, existing identical rule or None, values)."""
    planned: list[tuple[Any, Any, dict]] = []
    keys: dict[tuple, int] = {}
    for line, cells in table.rows:
        row = Row(line, cells, table.columns, errors)
        resident_class = row.parse("resident_class", parse_resident_class, required=True)
        share = row.parse("share_percent", parse_percent, required=True)
        cap = row.parse("monthly_cap", parse_yuan)
        day = row.parse("valid_from", parse_day, required=True)
        _dated(session, row, day, None)
        if row.failed or resident_class is None or day is None:
            continue
        key = (resident_class, day)
        if key in keys:
            row.error("duplicate_rule", other=keys[key])
            continue
        keys[key] = line
        values = {"resident_class": resident_class, "share_percent": share, "monthly_cap_fen": cap,
                  "valid_from": day}
        _keep_or_add(row, SubsidyRule, existing_subsidy(session, resident_class, day), values, planned)
    return planned


PLANNERS = {"service_providers": plan_providers, "prices": plan_prices, "subsidies": plan_subsidies}


def technician_provider(session: Session, row: Row) -> int | None:
    """The provider id a technicians' row names (blank: none); an unknown name is an error on the row."""
    name = row.cells.get("provider", "")
    if not name:
        return None
    provider = provider_by_name(session, name)
    if provider is None:
        row.error("unknown_provider", value=mask_text(name)[:40])
        return None
    return provider.id
