from datetime import timedelta

import pytest

from workflows.durations import (
    duration_code,
    duration_label,
    format_remaining,
    iso8601_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("90m", timedelta(minutes=90)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(days=14)),
        ("1mo", timedelta(days=30)),
        ("3mo", timedelta(days=90)),
    ],
)
def test_parse_every_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["4H", " 4h ", "4 h", "\t4\th\n", "+4h"])
def test_parse_tolerates_case_and_whitespace(text):
    assert parse_duration(text) == timedelta(hours=4)


@pytest.mark.parametrize("text", ["1MO", "1Mo", " 1 mo"])
def test_parse_month_in_any_case(text):
    assert parse_duration(text) == timedelta(days=30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5h", 'whole numbers only: "1.5h"'),
        (".5h", "whole numbers only"),
        ("0h", 'must be more than zero: "0h"'),
        ("0mo", "must be more than zero"),
        ("-1h", 'must be more than zero: "-1h"'),
        ("3x", 'unknown unit "x" (use s, m, h, d, w, mo)'),
        ("1y", 'unknown unit "y"'),
        ("2hours", 'unknown unit "hours"'),
        ("5", 'missing unit in "5" (use s, m, h, d, w, mo)'),
        ("", "empty duration"),
        ("   ", "empty duration"),
        ("h", 'not a duration: "h"'),
        ("1h30m", 'not a duration: "1h30m"'),
        ("abc", 'not a duration: "abc"'),
        ("99999999999999999999mo", "too long"),
    ],
)
def test_parse_refuses_with_a_clear_message(text, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert message in str(caught.value)


def test_parse_refuses_non_text():
    with pytest.raises(ValueError, match="expected text"):
        parse_duration(4)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("td", "label"),
    [
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=30), "30 seconds"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=5), "5 minutes"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3), "3 days"),
        (timedelta(weeks=1), "1 week"),
        (timedelta(weeks=2), "2 weeks"),
        (timedelta(days=30), "1 month"),
        (timedelta(days=60), "2 months"),
        (timedelta(days=35), "5 weeks"),
        (timedelta(days=31), "31 days"),
        (timedelta(0), "0 seconds"),
    ],
)
def test_label_uses_largest_exact_unit(td, label):
    assert duration_label(td) == label


@pytest.mark.parametrize(
    ("td", "code"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=12), "12h"),
        (timedelta(days=2), "2d"),
        (timedelta(weeks=2), "2w"),
        (timedelta(days=30), "1mo"),
        (timedelta(0), "0s"),
    ],
)
def test_code(td, code):
    assert duration_code(td) == code


@pytest.mark.parametrize(
    "text", ["30s", "5m", "90m", "1h", "12h", "1d", "3d", "1w", "2w", "1mo", "2mo"]
)
def test_code_round_trips_through_parse(text):
    assert duration_code(parse_duration(text)) == text


def test_code_normalises_to_the_largest_unit():
    assert duration_code(parse_duration("60m")) == "1h"
    assert duration_code(parse_duration("7d")) == "1w"
    assert duration_code(parse_duration("30d")) == "1mo"


@pytest.mark.parametrize("func", [duration_label, duration_code, iso8601_duration])
def test_negative_durations_are_refused(func):
    with pytest.raises(ValueError):
        func(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(hours=2, minutes=10), "2h 10m"),
        (timedelta(hours=2, minutes=10, seconds=59), "2h 10m"),
        (timedelta(days=3, hours=4), "3d 4h"),
        (timedelta(days=3, hours=4, minutes=30), "3d 4h"),
        (timedelta(days=3, minutes=5), "3d"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=5, seconds=30), "5m 30s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=45, microseconds=900_000), "45s"),
        (timedelta(days=30), "30d"),
        (timedelta(milliseconds=500), "0s"),
        (timedelta(0), "0s"),
        (timedelta(minutes=-5), "0s"),
    ],
)
def test_format_remaining(td, text):
    assert format_remaining(td) == text


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(hours=1), "PT1H"),
        (timedelta(hours=4), "PT4H"),
        (timedelta(hours=12), "PT12H"),
        (timedelta(minutes=90), "PT1H30M"),
        (timedelta(minutes=30), "PT30M"),
        (timedelta(seconds=45), "PT45S"),
        (timedelta(hours=1, seconds=5), "PT1H5S"),
        (timedelta(days=1), "P1D"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(0), "PT0S"),
    ],
)
def test_iso8601_duration(td, text):
    assert iso8601_duration(td) == text
