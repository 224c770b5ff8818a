"""Parsing numbers into E.164 at the edge: the usual spellings, refusals, and the parse cache's limits."""
from __future__ import annotations

import pytest

from models import phone
from models.phone import InvalidPhone, normalise, try_normalise


@pytest.mark.parametrize("raw", ["13904761234", "139 0476 1234", "+86 139-0476-1234", "008613904761234",
                                 " +8613904761234 "])
def test_every_usual_spelling_of_a_mobile_is_the_same_e164(raw):
    assert normalise(raw) == "+8613904761234"
    assert normalise(raw) == "+8613904761234"  # the second time from the cache: the same answer


def test_a_landline_with_its_area_code_is_parsed_in_china():
    assert normalise("0476-8223344") == "+864768223344"


@pytest.mark.parametrize("raw", ["", "12345", "anonymous", "+266696687", "1" * 40])
def test_a_refused_number_is_refused_every_time_and_never_kept(raw):
    before = phone._e164.cache_info().currsize
    for _ in range(2):
        with pytest.raises(InvalidPhone):
            normalise(raw)
        assert try_normalise(raw) is None
    assert phone._e164.cache_info().currsize == before


def test_the_cache_is_bounded():
    assert phone._e164.cache_info().maxsize == 4096
