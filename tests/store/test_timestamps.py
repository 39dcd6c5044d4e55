"""teiten.store.timestamps: instants as ISO 8601 text, no digit lost, µs ones unchanged."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from teiten.store.timestamps import iso_ns, iso_timestamps

NS_RANGE = st.integers(-(2**62), 2**63 - 1)  # what timestamp[ns] holds (years 1823 … 2262)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "1970-01-01T00:00:00+00:00"),
        (1_418_145_369_924_505_488, "2014-12-09T17:16:09.924505488+00:00"),
        (1_418_145_369_924_505_000, "2014-12-09T17:16:09.924505+00:00"),
        (1_418_145_369_000_000_001, "2014-12-09T17:16:09.000000001+00:00"),
        (-1, "1969-12-31T23:59:59.999999999+00:00"),
    ],
)
def test_iso_ns(ns, text):
    assert iso_ns(ns) == text


@given(st.integers(-(2**62) // 1000, (2**63 - 1) // 1000))
def test_whole_microseconds_read_as_datetime_writes_them(us):
    expected = pa.scalar(us, pa.timestamp("us", tz="UTC")).as_py().isoformat()
    assert iso_ns(us * 1000) == expected


@given(NS_RANGE)
def test_text_reads_back(ns):
    text = iso_ns(ns)
    assert text.endswith("+00:00")
    whole, _, fraction = text.removesuffix("+00:00").partition(".")
    assert len(fraction) in (0, 6, 9)
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    assert int(seconds) * 10**9 + int(fraction.ljust(9, "0")) == ns


@pytest.mark.parametrize(
    ("unit", "text"),
    [
        ("s", "2014-12-09T17:16:09+00:00"),
        ("ms", "1970-01-17T09:55:45.369000+00:00"),
        ("us", "1970-01-01T00:23:38.145369+00:00"),
        ("ns", "1970-01-01T00:00:01.418145369+00:00"),
    ],
)
def test_columns_of_any_unit(unit, text):
    values = pa.array([1_418_145_369, None], pa.int64()).cast(pa.timestamp(unit, tz="UTC"))
    assert iso_timestamps(pa.chunked_array([values])) == [text, None]
