"""The pure functions behind a rule's conditions."""

import pytest

from tracker.matching.filters import any_near, gap, is_near, longest_first


@pytest.mark.parametrize("a,b,expected", [
    ((0, 2), (2, 4), 0),
    ((0, 2), (5, 7), 3),
    ((5, 7), (0, 2), 3),
    ((0, 10), (3, 4), 0),
])
def test_gap(a, b, expected):
    assert gap(a, b) == expected


@pytest.mark.parametrize("span,others,within,expected", [
    ((10, 12), [(0, 2)], 8, True),
    ((10, 12), [(0, 2)], 7, False),
    ((10, 12), [(40, 42)], 28, True),
    ((10, 12), [(40, 42)], 27, False),
    ((10, 12), [], 100, False),
])
def test_is_near(span, others, within, expected):
    assert is_near(span, others, within) is expected


def test_any_near():
    assert any_near([(0, 2), (50, 52)], [(55, 57)], 3)
    assert not any_near([(0, 2)], [(55, 57)], 3)


@pytest.mark.parametrize("spans,expected", [
    ([(0, 2, "绿电"), (0, 4, "绿电交易")], [(0, 4, "绿电交易")]),
    ([(2, 5, "专业镇"), (0, 5, "特色专业镇")], [(0, 5, "特色专业镇")]),
    ([(0, 2, "a"), (3, 5, "b")], [(0, 2, "a"), (3, 5, "b")]),
    ([(0, 3, "abc"), (2, 5, "cde")], [(0, 3, "abc")]),
    ([], []),
])
def test_longest_first(spans, expected):
    assert longest_first(spans) == expected
