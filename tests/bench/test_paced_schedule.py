"""The paced (open-loop) load's schedule: calls at a fixed rate, whatever came before, with a caller's pauses."""
from __future__ import annotations

import pytest

from bench.paced import PAUSE_S, schedule

CALLERS = ["+8613904760001", "+8613904760002", "+8613904760003"]


def test_calls_start_every_one_over_rate_seconds_for_the_whole_duration():
    calls = schedule(rate=20, duration=3, seed=1, callers=CALLERS)
    assert len(calls) == 60
    assert [c.start for c in calls] == pytest.approx([i / 20 for i in range(60)])


def test_each_caller_pauses_between_2_and_6_seconds_before_each_later_webhook():
    calls = schedule(rate=50, duration=4, seed=2, callers=CALLERS)
    pauses = [p for c in calls for p in c.pauses]
    assert all(len(c.pauses) == 2 for c in calls)
    assert all(PAUSE_S[0] <= p <= PAUSE_S[1] for p in pauses)
    # Uniform over the range, not bunched at one end (400 draws: each half gets well over a third).
    assert sum(p < 4 for p in pauses) > len(pauses) / 3 and sum(p >= 4 for p in pauses) > len(pauses) / 3


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another():
    assert schedule(10, 2, 7, CALLERS) == schedule(10, 2, 7, CALLERS)
    assert schedule(10, 2, 7, CALLERS) != schedule(10, 2, 8, CALLERS)


def test_callers_are_drawn_from_the_known_ones():
    assert {c.caller for c in schedule(10, 5, 3, CALLERS)} <= set(CALLERS)


def _run(p99_s: float, errors: int = 0) -> dict:
    return {"latency": {route: [p99_s] * 100 for route in ("greeting", "menu", "confirm")}, "errors": errors}


def test_the_rate_a_box_answers_is_the_last_one_under_100_ms_and_a_bound_when_it_is_the_most_tested():
    from dataclasses import replace

    from bench.webhooks import SMOKE
    from bench.webhooks_report import _answers, _rate_text
    plan = replace(SMOKE, rates=(20, 50, 100))
    paced = {("hotline", 20): _run(0.02), ("hotline", 50): _run(0.09), ("hotline", 100): _run(0.4),
             ("bare", 20): _run(0.01), ("bare", 50): _run(0.01), ("bare", 100): _run(0.01),
             ("durable", 20): _run(0.3), ("durable", 50): _run(0.01), ("durable", 100): _run(0.01, errors=1)}
    assert _rate_text(_answers(paced, plan, "hotline"), plan) == "50 new calls/s"
    assert _rate_text(_answers(paced, plan, "bare"), plan) == "at least 100 new calls/s (the most tested)"
    assert _rate_text(_answers(paced, plan, "durable"), plan) == "under 20 new calls/s"


def test_an_app_is_not_asked_for_a_higher_rate_once_one_fails_it():
    from bench.webhooks import paced_ladder
    limits = {"hotline": 50, "durable": 100, "bare": 400}  # the highest rate each answers
    asked = []

    def run_one(name, rate):
        asked.append((name, rate))
        return _run(0.02 if rate <= limits[name] else 0.5)

    paced = paced_ladder((20, 50, 100, 150, 200), ["hotline", "durable", "bare"], run_one)
    assert [r for n, r in asked if n == "hotline"] == [20, 50, 100]   # 100 fails it: nothing higher
    assert [r for n, r in asked if n == "durable"] == [20, 50, 100, 150]
    assert [r for n, r in asked if n == "bare"] == [20, 50, 100, 150, 200]
    assert set(paced) == set(asked)


def test_the_paced_table_and_answer_skip_the_rates_an_app_was_not_asked():
    from dataclasses import replace

    from bench.webhooks import SMOKE
    from bench.webhooks_report import _answers, _paced, _rate_text
    plan = replace(SMOKE, rates=(20, 50, 100))
    full = {"lag": [0.001] * 10, "calls_started": 10, "calls_scheduled": 10, "rps": 30.0, "client_cpu": 0.1}
    paced = {("hotline", 20): _run(0.02) | full, ("hotline", 50): _run(0.4) | full,
             **{(n, r): _run(0.01) | full for n in ("durable", "bare") for r in (20, 50, 100)}}
    lines, targets = _paced(paced, plan)
    rows = [line for line in lines if line.startswith("| ") and "hotline" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| 20", "| 50"]  # no row for 100: not asked
    assert _rate_text(_answers(paced, plan, "hotline"), plan) == "20 new calls/s"
    assert "hotline 20 new calls/s" in targets[0][1]
