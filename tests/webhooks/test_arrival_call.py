"""The arrival call's webhook, walked with signed requests as Twilio posts them: 1, 2, silence, a wrong key."""
from __future__ import annotations

import pytest

from tests import people
from tests.conftest import ELDERLY_NUMBER, PUBLIC_BASE_URL
from tests.orders import only_order, texts_to
from tests.twilio_client import parse_twiml
from tests.visits import OFFICER, arrival_calls, arrive, events, gather_action, retry_due, visit


def spoken(root) -> str:
    """Everything the TwiML says, in order."""
    return "".join("".join(say.itertext()) for say in root.iter("Say"))


@pytest.fixture
def called(tw, db, run_worker, fake_twilio):
    """An arrival reported by SMS and its first arrival call placed; returns the call's Gather action path."""
    people.officer(db, "李干事", OFFICER)
    arrive(tw, db, run_worker)
    run_worker()
    [call] = arrival_calls(fake_twilio)
    return gather_action(call).removeprefix(PUBLIC_BASE_URL)


def press(tw, path: str, signed: bool = True, **params):
    """The resident's key, posted to the Gather's action as Twilio posts it."""
    call = tw.new_call(from_=ELDERLY_NUMBER, to=people.RESIDENT_MOBILE, direction="outbound-api")
    return tw.post(path, {**call.base_params(), **params}, signed=signed)


def test_pressing_1_verifies_the_visit_and_thanks_the_resident(called, tw, db):
    root = parse_twiml(press(tw, called, Digits="1"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"] and "谢谢您的确认" in spoken(root)
    assert visit(db).verification == "verified"
    assert only_order(db).needs_follow_up is False


def test_pressing_2_disputes_the_visit_flags_the_order_and_alerts_the_officer_at_once(
        called, tw, db, run_worker, fake_twilio):
    root = parse_twiml(press(tw, called, Digits="2"))
    assert "通知工作人员" in spoken(root) and root[-1].tag == "Hangup"
    assert visit(db).verification == "disputed"
    order = only_order(db)
    assert order.needs_follow_up is True
    assert [kind for kind, _ in events(db, order, "visit_disputed", "needs_follow_up")] == [
        "visit_disputed", "needs_follow_up"]
    run_worker()
    assert len(texts_to(fake_twilio, OFFICER)) == 1


def test_the_same_key_delivered_twice_alerts_once(called, tw, db, run_worker, fake_twilio):
    press(tw, called, Digits="2")
    call = tw.new_call(from_=ELDERLY_NUMBER, to=people.RESIDENT_MOBILE, direction="outbound-api")
    press(tw, called, Digits="2", CallSid=call.sid)  # another call's answer: the first one counted
    run_worker()
    assert len(texts_to(fake_twilio, OFFICER)) == 1


def test_silence_twice_through_the_calls_leaves_the_visit_unverified(called, app, tw, db, run_worker, fake_twilio):
    # Silence posts nothing: the Gather times out and the call hangs up; the jobs place the next try.
    retry_due(app, db)
    run_worker()
    second = arrival_calls(fake_twilio)[1]
    assert gather_action(second).endswith("&try=2&end=1")
    retry_due(app, db)
    run_worker()
    assert visit(db).verification == "unverified" and len(arrival_calls(fake_twilio)) == 2


def test_an_answer_on_the_second_try_still_counts(called, app, tw, db, run_worker, fake_twilio):
    retry_due(app, db)
    run_worker()
    path = gather_action(arrival_calls(fake_twilio)[1]).removeprefix(PUBLIC_BASE_URL)
    press(tw, path, Digits="1")
    retry_due(app, db)
    run_worker()
    assert visit(db).verification == "verified"


def test_another_key_asks_once_more_then_says_goodbye_and_changes_nothing(called, tw, db):
    root = parse_twiml(press(tw, called, Digits="7"))
    assert "无效" in spoken(root) and "服务人员到了吗" in spoken(root)
    [again, _] = [g.get("action") for g in root.iter("Gather")]
    assert "again=1" in again
    root = parse_twiml(press(tw, again.removeprefix(PUBLIC_BASE_URL), Digits="7"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert visit(db).verification == "pending"


def test_an_unsigned_answer_is_refused_and_changes_nothing(called, tw, db):
    assert press(tw, called, signed=False, Digits="2").status_code == 403
    assert visit(db).verification == "pending" and only_order(db).needs_follow_up is False


def test_an_answer_for_a_visit_never_called_says_goodbye_and_changes_nothing(called, tw, db):
    root = parse_twiml(press(tw, "/twilio/voice/arrival?visit=999&try=1&end=1", Digits="2"))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert visit(db).verification == "pending"
