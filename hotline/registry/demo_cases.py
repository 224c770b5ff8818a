"""The demo's child-line casework: 儿童主任 and 儿童督导员 for its villages and townships, and past cases with
intake (contact types, children under aliases, categories, risk levels), police reports and follow-up tasks.

Every time is the time it happened (never the loading time), every text a Chinese console shows is Chinese,
and nothing wakes the worker: past cases are closed with their tasks finished; the few open ones are
acknowledged, need no police report, and their open tasks fall due after the demo starts.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dispatch import taxonomy
from models import (
    CASE_TRANSITIONS,
    Case,
    CaseCategory,
    CaseChild,
    CaseStatus,
    CaseTask,
    CaseWorker,
    Message,
    Officer,
    TaskStatus,
    case_event,
    new_case_code,
)

# Township -> its villages (communities in the town itself); each has a 儿童主任, each township a 儿童督导员.
TOWNSHIPS = {"林东镇": ("东城社区", "西城社区", "南城社区", "北城社区"),
             "隆昌镇": ("隆昌村", "双井村"), "碧流台镇": ("碧流台村", "大营子村")}
DIRECTORS = ("白玉霞", "包金花", "高志强", "韩秀云", "任海龙", "乌云其木格", "孟庆丰", "于春梅")
SUPERVISORS = ("苏日娜", "田国庆", "杜红梅")
PARTNERS = (("林东第一中学 刘老师", "school", "林东镇"), ("巴林左旗医院 儿科", "hospital", "林东镇"),
            ("旗法律援助中心", "legal_aid", "林东镇"), ("心语心理辅导站", "counselling", "林东镇"))
POLICE = ("林东派出所", "隆昌派出所", "碧流台派出所")
ALIASES = ("小花", "小军", "小雨", "小宝", "小敏", "小龙", "小丽", "小杰", "小月", "小强")
# A summary per top category; nothing in them identifies a child (the children carry aliases).
SUMMARIES = {
    "violence": "孩子反映在家常被打，身上有伤，害怕回家。",
    "missing": "家长反映孩子前天离家后未归，电话打不通。",
    "mental_health": "孩子说最近睡不着，觉得活着没意思，已安抚并约定回访。",
    "physical_health": "孩子长期生病未就医，监护人无力负担医药费。",
    "family": "父母外出务工，孩子与年迈的祖父母同住，无人辅导学习。",
    "school": "孩子在学校被同学欺负，不愿上学。",
    "basic_needs": "家庭困难，冬季取暖和吃饭都成问题。",
    "legal": "监护人咨询抚养费和监护权问题。",
    "discrimination": "孩子因残疾在村里受到排斥。",
}
SILENT_NOTE = "来电无人说话，已按规定结案。"
OUTCOMES = {"home_visit": "已入户走访，了解家庭情况，孩子情绪稳定。", "relief": "已协助申请临时救助。",
            "referral": "已转介相关机构跟进。", "pairing": "已落实一对一结对帮扶。", "other": "已跟进。"}
_CONTACTS = {"child_self": 40, "adult_about_child": 30, "silent": 10, "hang_up": 8, "information": 8,
             "wrong_number": 4}
_RISKS = {"critical": 12, "urgent": 33, "not_urgent": 55}
_PHONE = "+86139047630{:02d}"


def load_case_workers(session: Session, now: datetime) -> list[CaseWorker]:
    """One 儿童主任 per village, one 儿童督导员 per township, and a few partners (caller commits)."""
    rows, n = [], 0
    for (township, villages), supervisor in zip(TOWNSHIPS.items(), SUPERVISORS):
        rows.append(CaseWorker(name=supervisor, role="child_supervisor", township=township))
        for village in villages:
            rows.append(CaseWorker(name=DIRECTORS[n], role="child_director", township=township, village=village))
            n += 1
    rows += [CaseWorker(name=name, role=role, township=township) for name, role, township in PARTNERS]
    for number, worker in enumerate(rows, start=1):
        worker.phone, worker.created_at, worker.updated_at = _PHONE.format(number), now, now
    session.add_all(rows)
    return rows


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _event(session: Session, case: Case, kind: str, at: datetime, actor: str, detail: str = "") -> None:
    case_event(session, case, kind, detail, actor).at = at


def past_case(session: Session, rng: random.Random, created: datetime, officer: Officer,
              workers: list[CaseWorker], now: datetime, still_open: bool = False) -> Case:
    """One case from its call to its close (or, `still_open`, to its open tasks), every event at its time."""
    case = Case(code=new_case_code(session), caller="", call_sid=f"CAdemo{rng.getrandbits(96):024x}",
                created_at=created, status=CaseStatus.CLOSED)
    session.add(case)
    session.flush()
    _event(session, case, "call", created, "来电人")
    outcome = CaseStatus.ANSWERED if still_open else rng.choices(
        (CaseStatus.ANSWERED, CaseStatus.VOICEMAIL, CaseStatus.MISSED), weights=(75, 15, 10))[0]
    if outcome == CaseStatus.ANSWERED:
        case.answered_at, case.answered_by = created + timedelta(seconds=rng.uniform(5, 40)), officer
        _event(session, case, CASE_TRANSITIONS[outcome].event, case.answered_at, officer.name)
        dealt = case.answered_at + timedelta(minutes=rng.uniform(3, 15))
    else:
        _event(session, case, CASE_TRANSITIONS[outcome].event, created + timedelta(minutes=1), "系统")
        case.acknowledged_at, case.acknowledged_by = created + timedelta(minutes=rng.triangular(2, 40, 8)), officer
        _event(session, case, CASE_TRANSITIONS[CaseStatus.ACKNOWLEDGED].event, case.acknowledged_at, officer.name,
               "短信确认")
        case.called_back_at, case.called_back_by = case.acknowledged_at + timedelta(minutes=rng.uniform(3, 60)), \
            officer.name
        dealt = case.called_back_at + timedelta(minutes=rng.uniform(3, 15))
    contact = _pick(rng, {k: v for k, v in _CONTACTS.items() if taxonomy.counted(k)}) if still_open \
        else _pick(rng, _CONTACTS)
    case.contact_type, case.intake_at, case.intake_by = contact, dealt, officer.name
    finished = dealt + timedelta(hours=rng.uniform(1, 6))
    if taxonomy.counted(contact):
        finished = _intake(session, rng, case, officer, workers, now, still_open)
    else:
        case.note = SILENT_NOTE
    if still_open:
        case.status = CaseStatus.ANSWERED
        return case
    case.closed_at = finished + timedelta(hours=rng.uniform(2, 30))
    case.note = case.note or "已按计划跟进完毕，结案。"
    _event(session, case, CASE_TRANSITIONS[CaseStatus.CLOSED].event, case.closed_at, officer.name, case.note)
    return case


def _intake(session, rng, case: Case, officer: Officer, workers: list[CaseWorker], now: datetime,
            still_open: bool) -> datetime:
    """Children, categories, risk and summary; the police report and tasks they call for. Returns when the
    last task was finished (or the intake, with none)."""
    township = rng.choice(list(TOWNSHIPS))
    village = rng.choice(TOWNSHIPS[township])
    for _ in range(rng.choices((1, 2), weights=(85, 15))[0]):
        age = rng.randint(3, 17)
        known = rng.random() < 0.8
        case.children.append(CaseChild(
            name=f"{rng.choice(ALIASES)}（化名）", sex=rng.choice(("female", "male")), age=age if known else None,
            age_band="" if known else next(b for b in ("0-5", "6-11", "12-14", "15-17")
                                           if age <= int(b.split("-")[1])),
            township=township, village=village, school=f"{township}中心小学" if 6 <= age <= 12 else "",
            living=rng.choice(("with_parents", "left_behind", "with_grandparents")),
            hardship=rng.random() < 0.2))
    tops = rng.sample(list(SUMMARIES), k=rng.choices((1, 2), weights=(75, 25))[0])
    pairs = []
    for top in tops:
        subs = [s["code"] for s in (taxonomy.entry("categories", top) or {}).get("subs", [])]
        pairs.append((top, rng.choice(subs) if subs else ""))
    case.categories.extend(CaseCategory(category=top, sub=sub) for top, sub in pairs)
    case.summary = SUMMARIES[tops[0]]
    # The open demo cases are not urgent ones with a report pending: those would alert the supervisors at once.
    case.risk_level = "not_urgent" if still_open else _pick(rng, _RISKS)
    if still_open:
        pairs[:] = [(t, s) for t, s in pairs if not taxonomy.mandatory_report([(t, s)])]
        case.categories[:] = [c for c in case.categories if (c.category, c.sub) in pairs] or \
            [CaseCategory(category="family", sub="left_behind")]
    intake = case.intake_at
    assert intake is not None
    case.police_required = taxonomy.police_required(case.risk_level, pairs)
    case.deadline_at = intake + timedelta(hours=taxonomy.case_deadline_hours(case.risk_level) or 0)
    if case.police_required:
        case.police_reported_at = intake + timedelta(minutes=rng.triangular(5, 120, 25))
        case.police_reporter, case.police_station = officer.name, rng.choice(POLICE)
        case.police_report_no = f"巴左公（{case.police_reported_at.year}）{rng.randint(100, 999)}号"
        case.police_recorded_at = case.police_reported_at + timedelta(minutes=rng.uniform(1, 30))
        case.police_recorded_by = officer.name
    last = intake
    for spec in taxonomy.default_tasks(case.risk_level):
        last = max(last, _task(session, rng, case, spec, village, workers, now, still_open))
    return last


def _assignee(workers: list[CaseWorker], role: str, township: str, village: str) -> CaseWorker | None:
    same = [w for w in workers if w.role == role and w.township == township and (role != "child_director"
                                                                                   or w.village == village)]
    return same[0] if same else None


def _task(session, rng, case: Case, spec: dict, village: str, workers: list[CaseWorker], now: datetime,
          still_open: bool) -> datetime:
    township = case.children[0].township
    worker = _assignee(workers, spec["role"], township, village)
    intake = case.intake_at
    assert intake is not None
    sent = intake + timedelta(minutes=rng.uniform(1, 5))
    task = CaseTask(kind=spec["kind"], assignee=worker, created_at=intake, created_by=case.intake_by,
                    due_at=intake + timedelta(hours=spec["due_hours"]), sent_at=sent)
    case.tasks.append(task)
    if worker is not None:
        session.add(Message(key=f"demo-task:{case.code}:{len(case.tasks)}", channel="sms", to_phone=worker.phone,
                            status="local", case_id=case.id, created_at=sent, sent_at=sent,
                            body=f"个案{case.code}：{taxonomy.label('task_kinds', task.kind)}，"
                                 f"请于{task.due_at:%m-%d}前完成。回复“收到 {case.code}”或“完成 {case.code} 说明”。"))
    task.acknowledged_at = sent + timedelta(minutes=rng.uniform(5, 90))
    # An open case's task still due stays open; one already past its due time was done (late or not).
    if still_open and task.due_at > now:
        task.status = TaskStatus.ACKNOWLEDGED
        task.next_overdue_at = task.due_at
        return task.acknowledged_at
    # Most visits are on time; about one in five comes late.
    late = rng.random() < 0.2
    hours = spec["due_hours"]
    task.done_at = task.due_at + timedelta(hours=rng.uniform(2, 30)) if late else \
        intake + timedelta(hours=rng.uniform(0.3, 0.9) * hours)
    task.status, task.outcome = TaskStatus.DONE, OUTCOMES.get(task.kind, OUTCOMES["other"])
    task.finished_by = worker.name if worker else case.intake_by
    return task.done_at
