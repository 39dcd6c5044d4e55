"""Counts per day or hour for any filter, against DuckDB over the store's packet files.

The daily answers come from the rollups; the reference counts the raw packets in the
Parquet files themselves (``ts`` in µs: a day or an hour is an integer division of its
epoch), with the filters written out here again, so that neither the rollup nor the
filters' SQL checks itself.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from _cli_store import PERIOD, build_store
from teiten.analyze.periods import parse_period
from teiten.analyze.rankings import Filters
from teiten.analyze.series import BREAKDOWN_TAGS, series, series_rows
from teiten.errors import OptionError
from teiten.fingerprint import TAG_BITS
from teiten.store import DuckDBEngine, Store

DAY_US, HOUR_US = 86_400_000_000, 3_600_000_000
DAYS = parse_period(PERIOD)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("series"), simulated=True)


@pytest.fixture(scope="module")
def engine(store: Path):
    with DuckDBEngine(Store(store, create=False)) as engine:
        assert engine.rolled_up  # the daily answers read the rollup files
        yield engine


def _where(traffic: str, filters: dict) -> str:
    """The filters as SQL over the raw packets, written out independently."""
    clauses = [] if traffic == "all" else [f"kind = '{traffic}'"]
    if "country" in filters:
        clauses.append(f"country = '{filters['country']}'")
    if "sensor" in filters:
        clauses.append(f"sensor = '{filters['sensor']}'")
    if "proto" in filters:
        clauses.append(f"proto = {dict(tcp=6, udp=17)[filters['proto']]}")
    if "tags" in filters:
        mask = sum(1 << TAG_BITS[t] for t in filters["tags"])
        clauses.append(f"tags & {mask} <> 0")
    if "exclude_tags" in filters:
        mask = sum(1 << TAG_BITS[t] for t in filters["exclude_tags"])
        clauses.append(f"tags & {mask} = 0")
    if "port" in filters:
        number, _, proto = filters["port"].partition("/")
        clauses.append(f"dport = {number}")
        clauses.append(f"proto = {dict(tcp=6, udp=17)[proto]}" if proto else "proto IN (6, 17)")
    return " AND ".join(clauses) or "true"


def _reference(store: Path, unit: int, metric: str, where: str) -> dict[int, int]:
    """Per bucket (epoch µs // ``unit``): the packets or distinct sources ``where`` selects."""
    count = "count(DISTINCT src)" if metric == "sources" else "count(*)"
    rows = duckdb.sql(
        f"SELECT epoch_us(ts) // {unit} AS b, {count} AS n "
        f"FROM read_parquet('{store}/packets/*/*.parquet') WHERE {where} GROUP BY b"
    ).fetchall()
    return dict(rows)


def _expected(store: Path, period, unit: int, metric: str, traffic: str, filters: dict):
    """The values and breakdown of the period's buckets, from the raw packets."""
    first = (period.start.toordinal() - 719_163) * (DAY_US // unit)  # 719163: 1970-01-01
    buckets = range(first, first + period.days * (DAY_US // unit))
    where = _where(traffic, filters)
    lines = {t: f"{where} AND (tags >> {TAG_BITS[t]}) & 1 = 1" for t in BREAKDOWN_TAGS}
    if traffic == "all":
        lines["backscatter"] = f"{where} AND kind = 'backscatter'"

    def line(condition: str) -> list[int]:
        counts = _reference(store, unit, metric, condition)
        return [counts.get(b, 0) for b in buckets]

    return line(where), {name: line(condition) for name, condition in lines.items()}


def _filters(given: dict) -> Filters:
    return Filters(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


CASES = [
    ("packets", "probe", {}),
    ("sources", "probe", {}),
    ("sources", "all", {}),
    ("packets", "backscatter", {"country": "US"}),
    ("packets", "all", {"country": "CN", "proto": "tcp"}),
    ("sources", "probe", {"tags": ["mirai", "zmap"], "exclude_tags": ["masscan"]}),
    ("packets", "all", {"port": "23"}),
    ("sources", "probe", {"port": "445/tcp", "sensor": "alpha"}),
    ("sources", "all", {"port": "23", "proto": "tcp", "exclude_tags": ["research"]}),
]


@pytest.mark.parametrize(("metric", "traffic", "given"), CASES)
def test_daily_counts_from_the_rollups_are_the_packets_counts(
    engine, store, metric, traffic, given
):
    found = series(engine, DAYS, metric=metric, traffic=traffic, filters=_filters(given))
    values, breakdown = _expected(store, DAYS, DAY_US, metric, traffic, given)
    assert found.values == values
    assert found.breakdown == breakdown
    assert sum(values) > 0
    assert found.as_json()["filters"] == given


@pytest.mark.parametrize(("metric", "traffic", "given"), CASES[::3])
def test_hourly_counts_are_the_packets_counts(engine, store, metric, traffic, given):
    filters = _filters(given)
    found = series(engine, DAYS, by="hour", metric=metric, traffic=traffic, filters=filters)
    values, breakdown = _expected(store, DAYS, HOUR_US, metric, traffic, given)
    assert (found.values, found.breakdown) == (values, breakdown)


def test_hours_sum_to_the_days_for_packets(engine):
    filters = Filters(proto="tcp", exclude_tags=("research",))
    days = series(engine, DAYS, traffic="all", filters=filters)
    hours = series(engine, DAYS, by="hour", traffic="all", filters=filters)
    assert len(hours.buckets) == 48
    for i in range(2):
        assert sum(hours.values[24 * i : 24 * (i + 1)]) == days.values[i]
        for name, line in hours.breakdown.items():
            assert sum(line[24 * i : 24 * (i + 1)]) == days.breakdown[name][i]


def test_every_bucket_is_there_zeros_included(engine):
    around = parse_period("2024-02-28..2024-03-03")
    days = series(engine, around)
    assert days.buckets == ["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02", "2024-03-03"]
    assert days.values[:2] == [0, 0] and days.values[-1] == 0 and all(days.values[2:4])
    assert list(days.breakdown) == ["mirai", "zmap", "masscan", "research"]
    hours = series(engine, around, by="hour", metric="sources")
    assert len(hours.buckets) == len(hours.values) == 5 * 24
    assert (
        hours.buckets[0] == "2024-02-28T00:00:00Z" and hours.buckets[-1] == "2024-03-03T23:00:00Z"
    )
    assert hours.buckets[48 + 5] == "2024-03-01T05:00:00Z" and hours.values[48 + 5] > 0
    assert sum(hours.values[:48]) == sum(hours.values[96:]) == 0


def test_the_answer_and_its_rows(engine):
    found = series(engine, DAYS, traffic="all", filters=Filters(port="23/TCP"))
    body = found.as_json()
    assert list(body) == [
        "period", "by", "metric", "traffic", "filters", "buckets", "values", "breakdown",
    ]  # fmt: skip
    assert body["filters"] == {"port": "23/tcp"}
    assert list(body["breakdown"]) == ["mirai", "zmap", "masscan", "research", "backscatter"]
    rows = series_rows(body)
    assert [r["bucket"] for r in rows] == body["buckets"]
    assert rows[1] == {
        "bucket": "2024-03-02",
        "value": body["values"][1],
        **{name: line[1] for name, line in body["breakdown"].items()},
    }


def test_hours_over_31_days_are_refused(engine):
    series(engine, parse_period("2024-03"), by="hour")  # 31 days: fine
    with pytest.raises(OptionError, match=r"--by hour covers at most 31 days .* --by day"):
        series(engine, parse_period("2024-01-31..2024-03-02"), by="hour")


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"filters": Filters(tags=("nosuch",))}, "--tag: unknown tag 'nosuch'"),
        ({"filters": Filters(exclude_tags=("nosuch",))}, "--exclude-tag: unknown tag"),
        ({"metric": "per-sensor"}, "unknown metric 'per-sensor'"),
        ({"traffic": "other"}, "unknown traffic kind"),
        ({"by": "week"}, "unknown bucket 'week'"),
    ],
)
def test_bad_arguments_are_refused(engine, kwargs, says):
    with pytest.raises(OptionError, match=says):
        series(engine, DAYS, **kwargs)


def test_a_port_and_a_protocol_must_agree():
    assert Filters(port="23", proto="tcp").as_json() == {"proto": "tcp", "port": "23"}
    with pytest.raises(OptionError, match="--port 23/tcp and --proto udp disagree"):
        Filters(port="23/tcp", proto="udp")
    with pytest.raises(OptionError, match="expected PORT/PROTO"):
        Filters(port="telnet")
