"""Each detector on series with known answers, and nothing on noise."""

from datetime import date, timedelta

import numpy as np
import pytest

from teiten.analyze.phenomena import PhenomenaSettings
from teiten.analyze.phenomena.changes import find_changes
from teiten.analyze.phenomena.crossovers import runs
from teiten.analyze.phenomena.mirai import mann_kendall_z, theil_sen
from teiten.errors import OptionError

S = PhenomenaSettings()


def _noise(n, level, seed=0):
    return np.random.default_rng(seed).poisson(level, n).astype(np.float64)


def test_a_step_up_is_a_surge_dated_on_its_first_day():
    x = _noise(120, 100)
    x[70:] = _noise(50, 300, seed=1)
    (change,) = find_changes(x, 28, S)
    assert change.index == 70 and change.direction == "surge"
    assert 2.6 < change.ratio < 3.4 and 90 < change.baseline < 110


def test_falling_silent_is_a_drop_even_after_a_burst_widened_the_spread():
    x = _noise(120, 150)
    x[60:68] = 400  # a week-long burst
    x[84:] = 0
    kinds = [(c.direction, c.index) for c in find_changes(x, 28, S)]
    assert ("drop", 84) in kinds


@pytest.mark.parametrize("seed", range(5))
def test_noise_has_no_change(seed):
    assert find_changes(_noise(150, 80, seed), 28, S) == []


def test_bursts_are_not_changes():
    x = _noise(120, 100)
    x[50] = 5000  # one day
    x[80:83] = 900  # three days, then back
    assert find_changes(x, 28, S) == []


def test_a_burst_in_the_last_days_is_no_change_but_a_step_that_lasts_is():
    x = _noise(100, 100)
    x[94:97] = 2000  # three loud days, then back: the fortnight after them is cut off
    assert find_changes(x, 28, S) == []
    x[97:] = 2000  # the same start, lasting to the end of the data
    (change,) = find_changes(x, 28, S)
    assert (change.direction, change.index) == ("surge", 94) and change.ratio > 15
    x[99] = np.nan  # a missing last day changes nothing
    assert [c.index for c in find_changes(x, 28, S)] == [94]


def test_a_drop_in_the_last_days_must_last_to_the_end():
    x = _noise(100, 300)
    x[93:96] = 0
    assert find_changes(x, 28, S) == []
    x[96:] = 0
    assert [(c.direction, c.index) for c in find_changes(x, 28, S)] == [("drop", 93)]


def test_missing_days_are_skipped_and_short_history_judges_nothing():
    x = _noise(120, 100)
    x[40:45] = np.nan
    x[70:] *= 3
    (change,) = find_changes(x, 28, S)
    assert change.index == 70
    assert find_changes(x[:10], 0, S) == []


def test_a_small_series_is_below_min_daily():
    x = _noise(120, 2) + 0.0
    x[70:] *= 5
    assert find_changes(x, 28, S) == []


def test_theil_sen_and_mann_kendall():
    x = np.arange(60, dtype=np.float64)
    y = 0.5 - 0.004 * x + np.random.default_rng(3).normal(0, 0.01, 60)
    y[10] = 5.0  # an outlier does not move the line
    slope, intercept = theil_sen(x, y)
    assert slope == pytest.approx(-0.004, abs=5e-4) and intercept == pytest.approx(0.5, abs=0.02)
    assert mann_kendall_z(y) < -5
    assert abs(mann_kendall_z(np.random.default_rng(4).normal(0, 1, 60))) < 3
    assert mann_kendall_z(np.ones(10)) == 0.0


def test_runs_lists_stretches():
    days = [date(2019, 4, 1) + timedelta(days=i) for i in range(6)]
    mask = np.array([True, True, False, True, False, True])
    assert runs(days, mask) == [(days[0], days[1]), (days[3], days[3]), (days[5], days[5])]


def test_settings_are_validated():
    with pytest.raises(OptionError, match="ISO 3166"):
        PhenomenaSettings(focus_country="Japan")
    with pytest.raises(OptionError, match="metric"):
        PhenomenaSettings(metric="bytes")
    assert PhenomenaSettings(focus_country="jp").focus_country == "JP"


def test_a_change_under_way_when_the_period_starts_keeps_its_date():
    """Judged from 10 days before the period (index 38), a step on day 35 is dated 35:
    its run of deviating days reaches the period. One that ended before is left out."""
    x = np.concatenate([np.full(35, 100.0), np.full(40, 400.0)])
    (change,) = find_changes(x, 28, S, report_from=38)
    assert change.index == 35 and change.direction == "surge" and change.last >= 38
    assert find_changes(x, 28, S, report_from=60) == []  # the baseline caught up by then


def test_a_crossover_already_under_way_is_dated_by_its_own_first_day():
    from teiten.analyze.phenomena.crossovers import _lead_began

    days = [date(2019, 3, 1) + timedelta(days=i) for i in range(20)]
    a = np.full(20, 100.0)
    b = np.concatenate([np.full(7, 50.0), np.full(13, 150.0)])  # ahead from day 7
    assert _lead_began(days, 10, a, b, days[10]) == (days[7], True)
    assert _lead_began(days, 10, a, b, days[12]) == (days[12], True)  # not on the first day
    assert _lead_began(days, 10, a, np.full(20, 150.0), days[10]) == (days[0], False)
