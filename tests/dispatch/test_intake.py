"""Intake (dispatch/intake.py): what an officer records about a call, validated against the taxonomy, saved on the
case with the rules copied onto it (police report required, deadline), corrected until the case closes; the
call-back stamp; and the one rule of closing (close_refusal)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import deferred
from dispatch.intake import (
    CLOSE_RULES,
    MAX_CHILDREN,
    ChildForm,
    IntakeForm,
    Refused,
    close_refusal,
    record_call_back,
    record_intake,
)
from models import AccessLog, Case, utcnow
from tests.casework import CHILD_NAME, child, counted_intake, critical_intake, make_case, supervisors


def save(db, settings, case, form, actor="zhang", now=None):
    work = record_intake(db, case, form, actor, settings, now or utcnow(), route="/console/cases/x/intake",
                         remote_addr="10.0.0.9")
    db.commit()
    return work


def refused(db, settings, case, form) -> list[str]:
    with pytest.raises(Refused) as caught:
        record_intake(db, case, form, "zhang", settings, utcnow())
    db.rollback()
    return [p.key for p in caught.value.problems]


def fresh(db, code="123456") -> Case:
    db.expire_all()
    return db.scalar(select(Case).where(Case.code == code))


def access(db) -> list[tuple]:
    return [(r.actor, r.case_id, r.action, r.route, r.remote_addr) for r in db.scalars(select(AccessLog))]


# --- a valid intake ---------------------------------------------------------------------------------------

def test_a_counted_intake_is_saved_with_its_children_categories_and_summary(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake(categories=(("family", "conflict"), ("school", "bullying"))))
    case = fresh(db)
    assert (case.contact_type, case.risk_level, case.summary) == ("child_self", "urgent", "孩子说父母经常吵架")
    assert [(c.category, c.sub) for c in case.categories] == [("family", "conflict"), ("school", "bullying")]
    [kid] = case.children
    assert (kid.name, kid.sex, kid.age, kid.township, kid.village) == (CHILD_NAME, "male", 9, "林东镇", "东城村")
    assert case.intake_by == "zhang" and case.intake_at is not None


def test_the_deadline_is_the_intake_time_plus_the_risk_levels_hours(db, settings):
    case = make_case(db)
    now = utcnow()
    save(db, settings, case, counted_intake(risk="urgent"), now=now)
    assert abs(fresh(db).deadline_at - (now + timedelta(hours=168))) < timedelta(seconds=1)


@pytest.mark.parametrize("form, required", [
    (critical_intake(), True),
    (counted_intake(risk="urgent", categories=(("violence", "sexual"),)), True),  # a mandatory-report category
    (counted_intake(risk="urgent", categories=(("violence", "emotional"),)), False),
    (counted_intake(risk="not_urgent", categories=(("missing", "missing"),)), True),
], ids=["critical", "sexual-violence", "emotional-violence", "missing-child"])
def test_police_required_is_copied_from_the_risk_level_and_the_categories(db, settings, form, required):
    case = make_case(db)
    save(db, settings, case, form)
    assert fresh(db).police_required is required


@pytest.mark.parametrize("contact_type", ["silent", "hang_up", "abusive", "wrong_number", "information"])
def test_an_uncounted_contact_needs_no_risk_level_category_or_child(db, settings, contact_type):
    case = make_case(db)
    save(db, settings, case, IntakeForm(contact_type=contact_type))
    case = fresh(db)
    assert case.contact_type == contact_type and case.risk_level is None and case.deadline_at is None
    assert case.children == [] and case.categories == [] and case.police_required is False


def test_an_intake_records_an_event_without_the_childs_name_or_the_summary(db, settings):
    case = make_case(db)
    save(db, settings, case, critical_intake())
    [event] = [e for e in fresh(db).events if e.kind == "intake"]
    assert event.actor == "zhang"
    assert "暴力侵害 / 身体暴力" in event.detail and "需报警" in event.detail and "1名儿童" in event.detail
    assert CHILD_NAME not in event.detail and "吵架" not in event.detail


def test_an_intake_writes_a_write_intake_access_log_row(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake())
    assert access(db) == [("zhang", case.id, "write:intake", "/console/cases/x/intake", "10.0.0.9")]


def test_blank_child_rows_of_the_form_are_not_children(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake(children=[child(), ChildForm(), ChildForm(sex="", living="")]))
    assert len(fresh(db).children) == 1


def test_a_child_given_only_an_age_band_and_flags_is_saved(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake(children=[ChildForm(age_band="6-11", living="left_behind",
                                                                flags=frozenset({"hardship", "orphan"}))]))
    [kid] = fresh(db).children
    assert (kid.age, kid.age_band, kid.living, kid.hardship, kid.orphan, kid.disability) == \
        (None, "6-11", "left_behind", True, True, False)


# --- corrections ------------------------------------------------------------------------------------------

def test_saving_again_replaces_the_children_and_categories(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake(categories=(("family", "conflict"),),
                                            children=[child(name="甲"), child(name="乙")]))
    save(db, settings, fresh(db), counted_intake(categories=(("family", "conflict"), ("legal", "")),
                                                 children=[child(name="丙")]))
    case = fresh(db)
    assert [c.name for c in case.children] == ["丙"]
    assert [(c.category, c.sub) for c in case.categories] == [("family", "conflict"), ("legal", "")]


def test_a_correction_keeps_the_first_intake_time_and_moves_the_deadline_from_it(db, settings):
    case = make_case(db)
    first = utcnow() - timedelta(hours=1)
    save(db, settings, case, counted_intake(risk="not_urgent"), now=first)
    save(db, settings, fresh(db), counted_intake(risk="urgent"), actor="li", now=utcnow())
    case = fresh(db)
    assert abs(case.intake_at - first) < timedelta(seconds=1) and case.intake_by == "li"
    assert abs(case.deadline_at - (first + timedelta(hours=168))) < timedelta(seconds=1)
    assert [e.kind for e in case.events].count("intake") == 2 and case.events[-1].detail.startswith("更正")


def test_a_correction_never_clears_a_police_report_requirement(db, settings):
    case = make_case(db)
    save(db, settings, case, critical_intake())
    save(db, settings, fresh(db), counted_intake(risk="not_urgent"))
    assert fresh(db).police_required is True


@pytest.mark.parametrize("status", ["answered", "acknowledged"])
def test_an_intake_is_allowed_once_a_person_has_dealt_with_the_call(db, settings, status):
    case = make_case(db, status=status)
    save(db, settings, case, counted_intake())
    assert fresh(db).contact_type == "child_self"


@pytest.mark.parametrize("status", ["ringing", "voicemail", "missed", "closed"])
def test_an_intake_is_refused_before_a_person_dealt_with_the_call_or_after_closing(db, settings, status):
    case = make_case(db, status=status)
    assert refused(db, settings, case, counted_intake()) == ["intake.err_case_state"]
    assert fresh(db).contact_type is None and access(db) == []


# --- bad input: clear errors, nothing saved ---------------------------------------------------------------

def test_a_counted_contact_without_risk_category_or_child_lists_every_missing_part(db, settings):
    case = make_case(db)
    problems = refused(db, settings, case, IntakeForm(contact_type="adult_about_child"))
    assert problems == ["intake.err_needs_risk_level", "intake.err_needs_category", "intake.err_needs_child"]
    case = fresh(db)
    assert case.contact_type is None and [e.kind for e in case.events] == ["call"] and access(db) == []


@pytest.mark.parametrize("form, problem", [
    (IntakeForm(contact_type=""), "intake.err_contact_type"),
    (IntakeForm(contact_type="prank"), "intake.err_contact_type"),
    (counted_intake(risk="apocalyptic"), "intake.err_risk_level"),
    (counted_intake(categories=(("violence", "unheard-of"),)), "intake.err_category"),
    (counted_intake(categories=(("nonsense", ""),)), "intake.err_category"),
    (counted_intake(summary="长" * 4001), "intake.err_summary_long"),
    (counted_intake(children=[child(age="18")]), "intake.err_child_age"),
    (counted_intake(children=[child(age="abc")]), "intake.err_child_age"),
    (counted_intake(children=[child(age="٣")]), "intake.err_child_age"),
    (counted_intake(children=[child(sex="other")]), "intake.err_child_sex"),
    (counted_intake(children=[child(living="moon")]), "intake.err_child_living"),
    (counted_intake(children=[child(age_band="99-100")]), "intake.err_child_age_band"),
    (counted_intake(children=[child(flags=frozenset({"rich"}))]), "intake.err_child_flag"),
    (counted_intake(children=[child(name="名" * 101)]), "intake.err_child_name_long"),
    (counted_intake(children=[child(school="校" * 201)]), "intake.err_child_school_long"),
    (counted_intake(children=[child(name=f"孩{i}") for i in range(MAX_CHILDREN + 1)]),
     "intake.err_too_many_children"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_input_is_refused_with_its_problem_and_changes_nothing(db, settings, form, problem):
    case = make_case(db)
    assert problem in refused(db, settings, case, form)
    case = fresh(db)
    assert case.contact_type is None and case.children == [] and case.categories == [] and access(db) == []


def test_a_refused_correction_keeps_the_saved_intake(db, settings):
    case = make_case(db)
    save(db, settings, case, counted_intake(children=[child(name="甲")]))
    refused(db, settings, fresh(db), counted_intake(children=[child(name="乙", age="40")]))
    assert [c.name for c in fresh(db).children] == ["甲"]


def test_a_child_problem_names_the_child_by_its_number(db, settings):
    case = make_case(db)
    with pytest.raises(Refused) as caught:
        record_intake(db, case, counted_intake(children=[child(), child(age="40")]), "zhang", settings, utcnow())
    assert [(p.key, p.values["n"]) for p in caught.value.problems] == [("intake.err_child_age", 2)]


# --- deferred work ----------------------------------------------------------------------------------------

def test_an_intake_needing_a_police_report_returns_the_first_alert_rounds_work(db, settings):
    supervisors(db)
    case = make_case(db)
    work = save(db, settings, case, critical_intake())
    assert len(deferred.message_ids(work)) == 2
    [next_round] = deferred.of_kind(work, deferred.POLICE_ALERT)
    assert next_round.args == (case.id, 2)


def test_an_intake_needing_no_police_report_returns_no_work(db, settings):
    supervisors(db)
    assert save(db, settings, make_case(db), counted_intake()) == []


# --- call-back ----------------------------------------------------------------------------------------------

def test_a_call_back_is_stamped_on_an_acknowledged_case(db, settings):
    case = make_case(db, status="acknowledged")
    record_call_back(db, case, "zhang", utcnow(), route="/r")
    db.commit()
    case = fresh(db)
    assert case.called_back_at is not None and case.called_back_by == "zhang"
    assert case.events[-1].kind == "called_back"
    assert [(a, action) for a, _, action, _, _ in access(db)] == [("zhang", "write:callback")]


@pytest.mark.parametrize("status", ["answered", "voicemail", "missed", "closed"])
def test_a_call_back_is_refused_unless_the_case_is_an_acknowledged_message_or_missed_call(db, status):
    case = make_case(db, status=status)
    with pytest.raises(Refused):
        record_call_back(db, case, "zhang", utcnow())
    assert fresh(db).called_back_at is None


def test_a_second_call_back_is_refused_and_keeps_the_first_time(db):
    case = make_case(db, status="acknowledged")
    record_call_back(db, case, "zhang", utcnow())
    db.commit()
    first = fresh(db).called_back_at
    with pytest.raises(Refused):
        record_call_back(db, fresh(db), "li", utcnow())
    assert fresh(db).called_back_at == first


# --- the rule of closing ----------------------------------------------------------------------------------

def test_a_case_without_an_intake_may_not_close(db):
    assert close_refusal(make_case(db)) == "intake.close_no_intake"


def test_a_case_needing_a_police_report_may_not_close_until_it_is_recorded(db, settings):
    case = make_case(db)
    save(db, settings, case, critical_intake())
    case = fresh(db)
    assert close_refusal(case) == "intake.close_police_missing"
    case.police_recorded_at = utcnow()
    assert close_refusal(case) is None


@pytest.mark.parametrize("form", [counted_intake(), IntakeForm(contact_type="silent")], ids=["counted", "silent"])
def test_a_case_with_an_intake_and_no_police_duty_may_close(db, settings, form):
    case = make_case(db)
    save(db, settings, case, form)
    assert close_refusal(fresh(db)) is None


def test_a_rule_added_to_the_close_rules_refuses_too(db, settings, monkeypatch):
    case = make_case(db)
    save(db, settings, case, counted_intake())
    monkeypatch.setattr("dispatch.intake.CLOSE_RULES", [*CLOSE_RULES, lambda case: "tasks.close_open_tasks"])
    assert close_refusal(fresh(db)) == "tasks.close_open_tasks"
