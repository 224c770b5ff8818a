"""Reading a technician's SMS reply: what it means and which order it names (the pure parser)."""
from __future__ import annotations

import pytest

from dispatch.replies import Reply, parse

CODE = "048213"


@pytest.mark.parametrize("body", ["1", "Y", "ACCEPT", "接单", "接"])
def test_accept_words_mean_accept(body):
    assert parse(body) == Reply("accept")


@pytest.mark.parametrize("body", ["2", "N", "DECLINE", "拒绝", "拒"])
def test_decline_words_mean_decline(body):
    assert parse(body) == Reply("decline")


@pytest.mark.parametrize("body", ["ARRIVED", "到达", "到了"])
def test_arrival_words_mean_arrived(body):
    assert parse(body) == Reply("arrived")


@pytest.mark.parametrize("body", ["DONE", "完成", "完工"])
def test_completion_words_mean_done(body):
    assert parse(body) == Reply("done")


@pytest.mark.parametrize("body,intent", [("y", "accept"), ("accept", "accept"), ("Accept", "accept"),
                                         ("n", "decline"), ("Decline", "decline"),
                                         ("arrived", "arrived"), ("Done", "done")])
def test_latin_words_are_case_insensitive(body, intent):
    assert parse(body) == Reply(intent)


@pytest.mark.parametrize("body,intent", [("１", "accept"), ("２", "decline"), ("Ｙ", "accept"), ("ｙ", "accept"),
                                         ("ＡＣＣＥＰＴ", "accept"), ("ｄｏｎｅ", "done"), ("Ｎ", "decline")])
def test_full_width_digits_and_letters_are_read_as_ascii(body, intent):
    assert parse(body) == Reply(intent)


@pytest.mark.parametrize("body", [f"1 {CODE}", f"{CODE} 1", f"接单{CODE}", f"{CODE}接单", f"接单 {CODE}",
                                  f"ACCEPT:{CODE}", f"{CODE},accept", f"接单，{CODE}。", f"y#{CODE}",
                                  f"  接单  {CODE}  "])
def test_code_before_or_after_the_word_with_or_without_separators(body):
    assert parse(body) == Reply("accept", CODE)


def test_full_width_code_is_read_as_digits():
    assert parse("完成 ０４８２１３") == Reply("done", CODE)


@pytest.mark.parametrize("body,intent", [(f"2 {CODE}", "decline"), (f"到达{CODE}", "arrived"),
                                         (f"{CODE} DONE", "done"), (f"完工 {CODE}", "done")])
def test_code_is_kept_with_every_intent(body, intent):
    assert parse(body) == Reply(intent, CODE)


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop", "START", "HELP", "help", "UNSUBSCRIBE", "unsubscribe",
                                  "STOPALL", "CANCEL", "END", "QUIT", "ＳＴＯＰ", "STOP.", f"STOP {CODE}",
                                  f"START {CODE}"])
def test_carrier_keywords_are_never_a_reply(body):
    assert parse(body).intent == "optout"


@pytest.mark.parametrize("body", ["", "   ", "hello", "可以吗", "12345", "1234567", "3", "YY", "接单吗好的行",
                                  "accept please now", "x" * 200])
def test_garbage_is_unknown(body):
    assert parse(body).intent == "unknown"


def test_missing_body_is_unknown():
    assert parse(None) == Reply("unknown")


def test_two_codes_in_one_reply_are_not_guessed_between():
    assert parse(f"接单 {CODE} 123456").intent == "unknown"


def test_a_seven_digit_number_is_not_taken_for_a_code():
    assert parse("接单 1234567").code is None


def test_unreadable_words_beside_a_code_are_unknown():
    assert parse(f"什么 {CODE}") == Reply("unknown", CODE)
