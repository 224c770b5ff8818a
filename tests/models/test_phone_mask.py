"""How phone numbers are masked for logs, pages and the CLI: a fixed head, four stars, the last four."""
from __future__ import annotations

from models.phone import mask, mask_text


def test_a_mobile_keeps_plus_two_digits_four_stars_and_the_last_four():
    assert mask("+8613904761234") == "+86****1234"


def test_a_landline_is_masked_to_the_same_shape():
    assert mask("+864768223344") == "+86****3344"


def test_the_star_count_does_not_tell_the_length():
    assert len(mask("+8613904761234")) == len(mask("+864768223344")) == len(mask("+12025550123"))


def test_a_number_without_plus_keeps_two_head_digits():
    assert mask("13904761234") == "13****1234"


def test_a_seven_digit_number_still_hides_two_digits():
    assert mask("1234567") == "1****4567"


def test_six_digits_or_fewer_are_all_stars():
    assert (mask("+123456"), mask("12345")) == ("+******", "*****")


def test_no_number_is_a_dash():
    assert (mask(None), mask("")) == ("-", "-")


def test_mask_text_masks_every_spelling_of_a_number_in_free_text():
    text = mask_text("回电 +8613904761234、139 0476 1234 或 0476-8223344")
    assert text == "回电 +86****1234、13****1234 或 04****3344"
