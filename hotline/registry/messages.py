"""The importer's messages, zh-CN first and English second: one bilingual text per kind of error."""
from __future__ import annotations

# User-facing text of the importer, zh-CN first and English second; {col}/{zh_col} name the column.
MESSAGES = {
    "encoding": ("文件编码无法识别，请另存为 UTF-8 或 GB18030 编码的 CSV",
                 "cannot decode the file; save it as CSV in UTF-8 or GB18030"),
    "bad_csv": ("无法读取 CSV 内容", "cannot read the CSV content"),
    "no_rows": ("文件没有数据行", "no data rows"),
    "missing_column": ("缺少必需的列“{zh_col}”（{col}）", "missing required column \"{col}\""),
    "duplicate_column": ("列“{zh_col}”出现了两次", "column \"{col}\" appears twice"),
    "extra_cells": ("数据多于表头的列数，含逗号的内容须用引号括起",
                    "more cells than header columns; quote text that contains commas"),
    "required": ("“{zh_col}”不能为空", "{col} is required"),
    "too_long": ("“{zh_col}”超过{limit}个字", "{col} is longer than {limit} characters"),
    "invalid_phone": ("电话号码无效：{value}", "invalid phone number: {value}"),
    "scientific_phone": ("电话号码被 Excel 转成了科学计数法，请将该列设为文本后重新导出",
                         "phone number was turned into scientific notation by Excel; "
                         "format the column as text and export again"),
    "duplicate_phone": ("电话号码 {value} 与第{other}行重复", "phone number {value} repeats line {other}"),
    "phones_conflict": ("这些电话号码分属不同的居民：{value}",
                        "these phone numbers belong to different residents: {value}"),
    "same_resident": ("与第{other}行是同一位居民", "same resident as line {other}"),
    "not_a_number": ("“{zh_col}”不是数字", "{col} is not a number"),
    "out_of_range": ("“{zh_col}”超出范围（{low}～{high}）", "{col} is out of range ({low}..{high})"),
    "coords_pair": ("纬度和经度须同时填写或同时留空", "lat and lng must both be given or both be blank"),
    "invalid_date": ("出生日期无效，应为 1958-03-04、1958/3/4 或 1958年3月4日",
                     "invalid birth_date; use 1958-03-04, 1958/3/4 or 1958年3月4日"),
    "future_date": ("出生日期晚于今天", "birth_date is in the future"),
    "unknown_flag": ("未知类别“{value}”（可用：高龄、困难、空巢、留守）",
                     "unknown category \"{value}\" (use advanced_age, hardship, empty_nest, left_behind)"),
    "unknown_skill": ("未知技能“{value}”（可用：生活照料、家政服务、精神慰藉、法律维护、紧急救援或1-5）",
                      "unknown skill \"{value}\" (use daily_care, housekeeping, companionship, "
                      "legal_aid, emergency or 1-5)"),
    "invalid_active": ("在岗状态“{value}”无效（可用：是/否、1/0）", "invalid active \"{value}\" (use yes/no or 1/0)"),
    "unknown_role": ("未知角色“{value}”（可用：值班员、主管）", "unknown role \"{value}\" (use officer or supervisor)"),
    "unknown_line": ("未知线路“{value}”（可用：养老、未成年人）", "unknown line \"{value}\" (use elderly or child)"),
    "invalid_tier": ("梯队须为1～{max_tier}的整数", "tier must be a whole number from 1 to {max_tier}"),
    "invalid_time": ("“{zh_col}”无效，应为 2026-12-01 08:00 或 2026-12-01T08:00:00+08:00",
                     "invalid {col}; use 2026-12-01 08:00 or 2026-12-01T08:00:00+08:00"),
    "end_before_start": ("结束时间须晚于开始时间", "ends_at must be after starts_at"),
    "shift_too_long": ("班次长于{days}天，请检查日期", "shift is longer than {days} days; check the dates"),
    "unknown_officer": ("值班人员电话 {value} 未登记为值班人员", "officer_phone {value} is not a registered officer"),
    "duplicate_shift": ("与第{other}行的班次相同", "same shift as line {other}"),
    "unknown_worker_role": ("未知角色“{value}”（可用：儿童主任、儿童督导员、学校、医院、法律援助、心理辅导）",
                            "unknown role \"{value}\" (use child_director, child_supervisor, school, hospital, "
                            "legal_aid or counselling)"),
    "place_required": ("{role_zh}须填写所在{zh_col}", "a {role} needs a {col}"),
    "unknown_provider": ("服务商“{value}”未登记", "service provider \"{value}\" is not registered"),
    "invalid_day": ("“{zh_col}”无效，应为 2026-12-01、2026/12/1 或 2026年12月1日",
                    "invalid {col}; use 2026-12-01, 2026/12/1 or 2026年12月1日"),
    "invalid_yuan": ("“{zh_col}”须为元，最多两位小数，如 20 或 20.50",
                     "{col} must be yuan with at most two decimals, e.g. 20 or 20.50"),
    "invalid_percent": ("“{zh_col}”须为0～100的整数", "{col} must be a whole number from 0 to 100"),
    "invalid_minutes": ("“{zh_col}”须为0～{limit}的整数", "{col} must be a whole number from 0 to {limit}"),
    "unknown_category": ("未知服务类别“{value}”（可用：生活照料、家政服务、精神慰藉、法律维护、紧急救援或1-5）",
                         "unknown category \"{value}\" (use daily_care, housekeeping, companionship, legal_aid, "
                         "emergency or 1-5)"),
    "unknown_resident_class": ("未知老人类别“{value}”（可用：困难、高龄、空巢、留守、其他）",
                               "unknown resident_class \"{value}\" (use hardship, advanced_age, empty_nest, "
                               "left_behind or other)"),
    "contract_end_before_start": ("合同结束日期早于开始日期", "contract_end is before contract_start"),
    "duplicate_name": ("名称与第{other}行重复", "name repeats line {other}"),
    "duplicate_rule": ("与第{other}行是同一规则、同一生效日期", "same rule and valid_from as line {other}"),
    "rule_exists": ("{day}起生效的同一规则已存在且内容不同；规则不能修改，请另填生效日期",
                    "a different rule for the same key already starts on {day}; rules are never edited, "
                    "use another valid_from"),
    "day_closed": ("该日期所在月份已结算关闭，最早可从{first}起生效",
                   "that month is closed; the earliest valid_from is {first}"),
}

COLUMN_ZH = {
    "name": "姓名", "phone": "电话", "address": "地址", "community": "社区", "lat": "纬度", "lng": "经度",
    "birth_date": "出生日期", "categories": "类别", "emergency_contact": "紧急联系人", "skills": "技能",
    "active": "在岗", "role": "角色", "officer_phone": "值班人员电话", "line": "线路", "tier": "梯队",
    "starts_at": "开始时间", "ends_at": "结束时间", "township": "乡镇", "village": "村",
    "contact_name": "联系人", "contact_phone": "联系电话", "contract_start": "合同开始", "contract_end": "合同结束",
    "provider": "服务商", "category": "服务类别", "price": "价格（元）", "min_minutes": "最短时长（分钟）",
    "valid_from": "生效日期", "resident_class": "老人类别", "share_percent": "补贴比例",
    "monthly_cap": "每月上限（元）",
}


def message(line: int, key: str, **params) -> str:
    """The bilingual text of one error, prefixed with its line when it has one."""
    if "col" in params:
        params.setdefault("zh_col", COLUMN_ZH.get(params["col"], params["col"]))
    zh, en = (text.format(**params) for text in MESSAGES[key])
    return f"第{line}行：{zh} / line {line}: {en}" if line else f"{zh} / {en}"
