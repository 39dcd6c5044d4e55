from datetime import date

import pytest

from teiten.analyze.periods import parse_period
from teiten.errors import PeriodError


@pytest.mark.parametrize(
    ("text", "label", "start", "end", "prev_label", "prev_start", "prev_end"),
    [
        (
            "2019Q2",
            "2019Q2",
            date(2019, 4, 1),
            date(2019, 7, 1),
            "2019Q1",
            date(2019, 1, 1),
            date(2019, 4, 1),
        ),
        (
            "2019q1",
            "2019Q1",
            date(2019, 1, 1),
            date(2019, 4, 1),
            "2018Q4",
            date(2018, 10, 1),
            date(2019, 1, 1),
        ),
        (
            "2019-04",
            "2019-04",
            date(2019, 4, 1),
            date(2019, 5, 1),
            "2019-03",
            date(2019, 3, 1),
            date(2019, 4, 1),
        ),
        (
            "2019-01",
            "2019-01",
            date(2019, 1, 1),
            date(2019, 2, 1),
            "2018-12",
            date(2018, 12, 1),
            date(2019, 1, 1),
        ),
        (
            "2019-W15",
            "2019-W15",
            date(2019, 4, 8),
            date(2019, 4, 15),
            "2019-W14",
            date(2019, 4, 1),
            date(2019, 4, 8),
        ),
        (
            "2021-W01",
            "2021-W01",
            date(2021, 1, 4),
            date(2021, 1, 11),
            "2020-W53",
            date(2020, 12, 28),
            date(2021, 1, 4),
        ),
        (
            "2019-04-01",
            "2019-04-01",
            date(2019, 4, 1),
            date(2019, 4, 2),
            "2019-03-31",
            date(2019, 3, 31),
            date(2019, 4, 1),
        ),
        (
            "2019",
            "2019",
            date(2019, 1, 1),
            date(2020, 1, 1),
            "2018",
            date(2018, 1, 1),
            date(2019, 1, 1),
        ),
        (
            "2019-04-01..2019-06-30",
            "2019-04-01..2019-06-30",
            date(2019, 4, 1),
            date(2019, 7, 1),
            "2018-12-31..2019-03-31",
            date(2018, 12, 31),
            date(2019, 4, 1),
        ),
    ],
)
def test_period_forms_and_previous(text, label, start, end, prev_label, prev_start, prev_end):
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)
    prev = period.previous()
    assert (prev.label, prev.start, prev.end) == (prev_label, prev_start, prev_end)


def test_range_previous_has_same_length():
    period = parse_period("2019-04-10..2019-04-19")
    assert period.days == period.previous().days == 10


def test_json_end_is_inclusive_last_day():
    assert parse_period("2019Q2").as_json() == {
        "label": "2019Q2",
        "start": "2019-04-01",
        "end": "2019-06-30",
    }


@pytest.mark.parametrize(
    "text",
    ["", "2019Q5", "2019-13", "2019-W54", "2019-02-30", "yesterday", "2019-06-30..2019-04-01"],
)
def test_bad_periods_name_the_accepted_forms(text):
    with pytest.raises(PeriodError, match="period"):
        parse_period(text)
