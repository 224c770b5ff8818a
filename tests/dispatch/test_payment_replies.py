"""Reading what the resident paid from a technician's `完成` SMS: method, amount in fen, e-CNY reference."""
from __future__ import annotations

import pytest

from dispatch.payment_replies import BadPayment, PaidReport, parse_amount, parse_payment
from dispatch.replies import Reply, parse

CODE = "123456"


@pytest.mark.parametrize("body, method, fen", [
    ("完成 123456 现金 20", "cash", 2000),
    ("完成 123456 数币 20", "ecny", 2000),
    ("完成 123456 数字人民币 20", "ecny", 2000),
    ("完成 123456 微信 15", "wechat_alipay", 1500),
    ("完成 123456 支付宝 15", "wechat_alipay", 1500),
    ("完成 123456 免费", "subsidy_only", 0),
    ("DONE 123456 CASH 20", "cash", 2000),
    ("done 123456 cash 20", "cash", 2000),
    ("123456 完成 现金 20", "cash", 2000),         # the code first
    ("完成 现金 20 123456", "cash", 2000),         # the code last
    ("完成123456现金20", "cash", 2000),            # no spaces at all
    ("完成 １２３４５６ 现金 ２０", "cash", 2000),   # full-width digits
    ("完成　１２３４５６　现金　２０．５", "cash", 2050),  # full-width space and point: 20.5 yuan = 2050 fen
    ("完成 123456 现金 ¥20", "cash", 2000),
    ("完成 123456 现金 ￥20", "cash", 2000),        # the full-width yuan sign
])
def test_a_done_reply_with_a_payment_names_the_order_method_and_fen(body, method, fen):
    assert parse(body) == Reply("done", CODE, PaidReport(method, fen))


@pytest.mark.parametrize("amount, fen", [
    ("20", 2000),            # 20 × 100
    ("20元", 2000),
    ("20.5", 2050),          # 20 × 100 + 50
    ("20.05", 2005),         # 20 × 100 + 5
    ("20.50元", 2050),
    ("二十", 2000),          # 二十 = 2 × 10
    ("二十元", 2000),
    ("十五块", 1500),        # 十五 = 10 + 5
    ("二十块五", 2050),      # 20 yuan and 5 jiao = 2000 + 50
    ("两块五毛", 250),       # 2 yuan 5 jiao = 200 + 50
    ("二十五元五角", 2550),  # 25 yuan 5 jiao
    ("20块5", 2050),
    ("二十点五", 2050),
    ("一百零五", 10500),     # 100 + 0 + 5
    ("一百五", 15000),       # said for 一百五十 = 150
    ("一百二十", 12000),     # 100 + 2 × 10
    ("20元5角3分", 2053),    # 2000 + 50 + 3
])
def test_amounts_in_digits_or_chinese_numerals_are_read_as_fen(amount, fen):
    assert parse_amount(amount) == fen


@pytest.mark.parametrize("amount", [
    "", "abc", "-5", "20.555", "20,5", "二十块五十", "十十", "20元5元", "1000001", "10000.01",
])
def test_an_unreadable_or_implausible_amount_is_refused(amount):
    with pytest.raises(BadPayment):
        parse_amount(amount)


def test_ten_thousand_yuan_is_the_most_one_visit_may_report():
    assert parse_amount("10000") == 1_000_000


@pytest.mark.parametrize("body", [
    "完成 123456 现金 abc",
    "完成 123456 现金",          # a method without an amount
    "完成 123456 现金 0",        # nothing paid is 免费, not cash
    "完成 123456 免费 5",        # free with an amount
    "完成 123456 20",            # an amount without a method
    "完成 123456 比特币 20",
    "完成 123456 现金 20 参考号ABCD1234",  # cash has no transaction reference
    "完成 123456 现金 99999",   # more than 10 000 yuan
])
def test_a_done_reply_with_a_bad_payment_is_a_bad_payment_not_a_completion(body):
    assert parse(body) == Reply("bad_payment", CODE)


def test_a_bare_done_still_completes_without_a_payment():
    assert parse("完成 123456") == Reply("done", CODE)
    assert parse("完成") == Reply("done")


@pytest.mark.parametrize("body, reference", [
    ("完成 123456 数币 20 参考号AB12CD34", "AB12CD34"),
    ("完成 123456 数币 20 参考号:AB12CD34", "AB12CD34"),
    ("完成 123456 数币 20 交易号 20261202123456789", "20261202123456789"),  # its 6-digit runs are no code
    ("完成 123456 数币 20 ref ab-12-cd", "AB-12-CD"),
    ("完成 123456 微信 20 流水号 X1Y2Z3", "X1Y2Z3"),
])
def test_an_electronic_payment_may_carry_its_transaction_reference(body, reference):
    reply = parse(body)
    assert reply.intent == "done" and reply.code == CODE
    assert reply.payment == PaidReport(reply.payment.method if reply.payment else "", 2000, reference)


def test_a_reference_too_short_to_be_one_is_a_bad_payment():
    assert parse("完成 123456 数币 20 参考号AB").intent == "bad_payment"


def test_parse_payment_reads_the_method_word_before_the_amount():
    assert parse_payment("微信支付 15") == PaidReport("wechat_alipay", 1500)
    assert parse_payment("FREE") == PaidReport("subsidy_only", 0)
