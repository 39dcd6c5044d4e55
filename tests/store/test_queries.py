"""The analyses' SQL (teiten.store.queries): named markers only, each with its value.

Every statement is built over a grid of its structural choices, its ``$name`` markers
compared with its values, and run by DuckDB over an empty store (which binds every
marker and checks the SQL). Their answers are tested by the analyses' tests; the Spark
spelling by tests/test_cli_spark.py.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from teiten.store import DuckDBEngine, Store, queries
from teiten.store.dialect import named_params
from teiten.store.queries.attribution import Probes

FIRST, SPLIT, END = date(2019, 4, 1), date(2019, 5, 1), date(2019, 6, 1)
FILTERED = queries.filters.where(tags=1, exclude_tags=6, country="JP", sensor="a", proto=6)
# The conditions a statement may get per table it reads (``sources`` has no protocol).
WHERES = {
    "keys": [queries.NO_CONDITION, queries.filters.where(kind="probe"), FILTERED],
    "sources": [
        queries.NO_CONDITION,
        queries.filters.where(tags=1, exclude_tags=6, country="JP", sensor="a", kind="probe"),
    ],
}


def _statements(dialect: str) -> list[queries.Statement]:
    r, s = queries.rankings, queries.series
    out = [
        queries.darknet.observed_sensors(FIRST, END),
        queries.holdings.has_rows("packets", FIRST, END),
        queries.holdings.has_rows("sources", FIRST, END),
        queries.holdings.held_days("packets"),
        queries.holdings.held_days("sources"),
        queries.holdings.sensor_labels(),
        queries.holdings.store_totals(),
        queries.holdings.sensor_totals(),
        s.period_totals(FIRST, END),
        s.kinds(FIRST, END),
        s.daily_packets(FIRST, END),
        s.probes_per_day("JP", FIRST, END),
        queries.attribution.contributors(
            dialect,
            [
                Probes(FIRST, END, country="JP", mirai=True),
                Probes(SPLIT, END, country="CN"),
                Probes(FIRST, SPLIT, proto=6, port=23),
                Probes(FIRST, END, country="US", proto=17, port=53),
            ],
            max_sources=10,
        ),
    ]
    for table, keys, shown, dimension in (
        ("keys", ("proto", "port", "icmp_type"), [(6, 23, None), (1, None, 8)], "ports"),
        ("sources", ("country",), [("JP",), (None,)], "countries"),
    ):
        for where in WHERES[table]:
            for by_sources in (False, True):
                for limit in (None, 10):
                    ranked = r.ranked(
                        table,
                        keys,
                        previous=FIRST,
                        first=SPLIT,
                        end=END,
                        by_sources=by_sources,
                        tags=["mirai", "zmap"],
                        limit=limit,
                        where=where,
                    )
                    out.append(ranked)
                days = s.rows_per_day(
                    table,
                    dimension,
                    shown,
                    by_sources=by_sources,
                    first=FIRST,
                    end=END,
                    where=where,
                )
                out.append(days)
            sources = r.row_sources(
                table, keys, shown, ["mirai"], first=FIRST, end=END, where=where, top=3
            )
            out.append(sources)
            out += [r.totals(table, FIRST, END, where), r.tag_histogram(table, FIRST, END, where)]
            out.append(r.sensors(table, FIRST, END, where))
    for where in (queries.NO_CONDITION, queries.filters.where(sensor="a")):
        out.append(s.sensors_per_day(FIRST, END, where))
    for dimension in ("ports", "countries"):
        for country in (None, "JP"):
            out.append(
                s.top_keys_per_day(dialect, dimension, FIRST, SPLIT, END, limit=5, country=country)
            )
    return out


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_every_marker_has_its_value_and_every_value_its_marker(dialect):
    for statement in _statements(dialect):
        assert "?" not in statement.sql, statement.sql
        markers = set(re.findall(r"\$([A-Za-z_]\w*)", statement.sql))
        assert markers == set(statement.params), statement.sql
        if dialect == "spark":
            assert "$" not in named_params(dialect, statement.sql)


def test_every_statement_runs_on_duckdb(tmp_path):
    with DuckDBEngine(Store(tmp_path / "empty")) as engine:
        for statement in _statements(engine.dialect):
            engine.rows(*statement)


def test_filters_name_only_what_is_given():
    assert queries.filters.where() == queries.NO_CONDITION
    assert queries.filters.where(sensor="a", kind="probe") == (
        " AND sensor = $sensor AND kind = $kind",
        {"sensor": "a", "kind": "probe"},
    )
    assert set(FILTERED.params) == {"tags", "exclude_tags", "country", "sensor", "proto"}


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(ValueError, match="given twice: country"):
        queries.statement.merged({"country": "JP", "first": FIRST}, {"country": "CN"})
