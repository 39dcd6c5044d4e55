"""The report's data: gathered from the same analyses the CLI runs, checked against them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from teiten.analyze.periods import parse_period
from teiten.cli import main
from teiten.errors import OptionError
from teiten.report import build_report

from .conftest import PERIOD


def cli_json(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_events_and_method_agree_with_the_cli(report_store, report_data):
    store = ("--store", str(report_store.root), "--period", PERIOD)
    scans = cli_json("events", "scans", *store, "--limit", "100000")
    dos = cli_json("events", "dos", *store, "--limit", "100000")
    assert report_data.scans.events == scans["total"]["events"] == len(scans["rows"]) > 0
    assert report_data.scans.actors == len({r["source"] for r in scans["rows"]})
    assert report_data.dos.events == dos["total"]["events"] == len(dos["rows"])
    top_port = max(
        {f"{r['port']}/{r['proto']}" for r in scans["rows"]},
        key=lambda k: sum(1 for r in scans["rows"] if f"{r['port']}/{r['proto']}" == k),
    )
    counts = {item["key"]: item["events"] for item in report_data.scans.by_key}
    assert counts[top_port] == max(counts.values())
    assert report_data.method.darknet_size == scans["darknet"]["size"]
    info = cli_json("store", "info", "--store", str(report_store.root))
    assert {(g["database"], g["edition"]) for g in report_data.method.geo} == {
        (g["database"], g["edition"]) for g in info["geo"]
    }
    assert report_data.method.sensors == report_data.overview.sensors == len(info["sensors"])


def test_overview_and_focus(report_store, report_data):
    o = report_data.overview
    assert o.packets == sum(o.kinds.values())
    assert o.per_sensor == round(o.packets / o.sensors, 3)
    assert len(o.daily.dates) == 91 and o.daily.dates[0].isoformat() == "2019-04-01"
    f = report_data.focus
    jp = cli_json(
        "top",
        "countries",
        "--store",
        str(report_store.root),
        "--period",
        PERIOD,
        "--metric",
        "per-sensor",
        "--limit",
        "1000",
    )
    (row,) = [r for r in jp["rows"] if r["country"] == "JP"]
    assert (f.packets, f.sources, f.rank) == (row["packets"], row["sources"], row["rank"])
    assert f.share == pytest.approx(row["packets"] / jp["total"]["packets"], abs=1e-6)
    assert set(f.mirai.values) == {"JP", "all"}
    assert f.mirai_share == row["tag_shares"]["mirai"]


def test_trend_sums_back_to_the_ranking(report_store, report_data):
    """Daily packets per observing sensor × observing sensors = the period's packets."""
    from teiten.report.series import daily_sensors
    from teiten.store import DuckDBEngine

    ranking, trend = report_data.ports.ranking, report_data.ports.trend
    with DuckDBEngine(report_store) as engine:
        sensors = daily_sensors(engine, ranking.period)
    for row in ranking.rows:
        values = trend.values[f"{row['port']}/{row['proto']}"]
        total = sum(v * sensors[d] for v, d in zip(values, trend.dates, strict=True) if v)
        assert total == pytest.approx(row["packets"], abs=0.01 * len(values))


def test_data_is_json_and_names_no_sensor(report_data):
    text = json.dumps(report_data.as_json(), ensure_ascii=False, default=str)
    for label in ("alpha", "bravo", "charlie", "delta"):
        assert label not in text  # sensors are only counted


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "bytes"}, "unknown metric"),
        ({"top": 0}, "--top"),
        ({"top": 11}, "--top"),
        ({"focus_country": "Japan"}, "alpha-2"),
    ],
)
def test_bad_options(report_store, kwargs, message):
    with pytest.raises(OptionError, match=message):
        build_report(report_store, parse_period(PERIOD), findings=[], **kwargs)


def test_a_stores_first_period_says_there_is_no_previous_comparison(report_store, tmp_path):
    """The demo store starts on 2019-01-01: 2019Q1 has no previous quarter. No finding is
    a new entrant, no row reads "outside top 10", and the text says why (ja and en)."""
    from teiten.report import write_report

    data = build_report(report_store, parse_period("2019Q1"))
    assert data.previous_data is False and data.as_json()["previous_data"] is False
    assert not [f for f in data.findings if f.kind == "new_entrant"]
    expected = {
        "ja": ("前四半期のデータがないため比較できません", "TOP10外"),
        "en": ("No data for the previous quarter: no comparison", "outside top 10"),
    }
    for lang, (says, never) in expected.items():
        (path, *_) = write_report(data, tmp_path / f"q1-{lang}.md", lang=lang, fmt="md")
        text = path.read_text(encoding="utf-8")
        assert text.count(says) >= 3, lang  # ports, regions, phenomena
        assert never not in text.replace(f"“{never}”", "").replace(f"「{never}」", ""), lang
        rows = [line for line in text.splitlines() if line.startswith("| 1 |")]
        assert rows and all(line.rstrip(" |").endswith(("–", "－")) for line in rows), rows


def test_a_period_with_a_previous_one_still_compares(report_data):
    assert report_data.previous_data is True
