"""`teiten notify build`: each recipient gets exactly its hosts (by ASN, CIDR, country),
checked against DuckDB over the raw packets; statuses across two periods; research
scanners and sensor addresses never listed; rebuilding a period changes nothing."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from notify.conftest import (
    DAYS,
    MIRAI,
    RESEARCH_ASN,
    SENSOR_SOURCE,
    NotifyStore,
    destinations,
    expected_rows,
    fresh_store,
    tagged_sources,
    toml_config,
)
from teiten.cli import main
from teiten.notify import COLUMNS

KINDS = ("mirai", "scanner", "smb-worm")
_IPV4 = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


@dataclass
class Built:
    store: Path
    config: Path
    recipients: list[dict[str, Any]]
    reports: dict[str, dict[str, Any]]  # per day, build --json
    expected: dict[str, list[dict[str, Any]]]  # per day, from the raw packets


def build(store: Path, config: Path, day: str) -> dict[str, Any]:
    args = ["notify", "build", "--store", str(store), "--config", str(config), "--period", day]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def feed(store: Path, recipient: str, day: str) -> dict[str, Any]:
    return json.loads((store / "notify" / "feeds" / recipient / f"{day}.json").read_text())


def _recipients(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recipients chosen from the findings: the two busiest ASes, a /8 of a third AS and
    one host of a fourth, Brazil, and two that must receive nothing."""
    by_asn = Counter(r["asn"] for r in rows if r["asn"] not in (None, RESEARCH_ASN))
    # ties broken by AS number and addresses taken in order: the rows come in no set order
    asns = [asn for asn, _ in sorted(by_asn.items(), key=lambda kv: (-kv[1], kv[0]))[:4]]
    in_third = min((r["ip"] for r in rows if r["asn"] == asns[2]), key=ipaddress.ip_address)
    host = min((r["ip"] for r in rows if r["asn"] == asns[3]), key=ipaddress.ip_address)
    out = {"kind": "directory", "path": "out"}
    return [
        {"name": "by-asn", "asns": asns[:2], "delivery": out},
        {"name": "by-cidr", "prefixes": [f"{in_third.split('.')[0]}.0.0.0/8", host],
         "delivery": out},
        {"name": "by-country", "countries": ["BR"], "delivery": out},
        {"name": "mirai-only", "countries": ["Brazil"], "findings": ["mirai"], "delivery": out},
        {"name": "sensors", "prefixes": ["198.18.0.0/15", "192.0.2.0/24"], "delivery": out},
        {"name": "research", "asns": [RESEARCH_ASN], "delivery": out},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def built(notify_store: NotifyStore, tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("feeds")
    store = fresh_store(notify_store, folder)
    expected = {day: expected_rows(store, day) for day in DAYS}
    recipients = _recipients(expected[DAYS[0]])
    config = toml_config(folder, recipients)
    reports = {day: build(store, config, day) for day in DAYS}
    return Built(store, config, recipients, reports, expected)


def _covers(recipient: dict[str, Any], row: dict[str, Any]) -> bool:
    ip = ipaddress.ip_address(row["ip"])
    countries = [{"Brazil": "BR"}.get(c, c) for c in recipient.get("countries", [])]
    return (
        row["asn"] in recipient.get("asns", [])
        or row["geo"] in countries
        or any(ip in ipaddress.ip_network(p, strict=False) for p in recipient.get("prefixes", []))
    ) and row["type"] in recipient.get("findings", KINDS)


def _seen(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    fields = ("ip", "type", "protocol", "count", "asn", "geo")
    return {tuple(r[f] for f in fields) for r in rows if r.get("status", "new") != "gone"}


def test_the_store_has_every_kind_to_find(built: Built) -> None:
    for day in DAYS:
        assert {r["type"] for r in built.expected[day]} == set(KINDS), day


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("name", ["by-asn", "by-cidr", "by-country", "mirai-only"])
def test_each_recipient_gets_exactly_its_hosts(built: Built, name: str, day: str) -> None:
    recipient = next(r for r in built.recipients if r["name"] == name)
    wanted = [r for r in built.expected[day] if _covers(recipient, r)]
    assert len(wanted) >= 3
    body = feed(built.store, name, day)
    assert _seen(list(body["rows"])) == _seen(wanted)
    assert body["columns"] == list(COLUMNS) and all(list(r) == list(COLUMNS) for r in body["rows"])


def test_statuses_across_two_periods(built: Built) -> None:
    occurred: set[str] = set()
    for recipient in built.recipients[:4]:
        name = recipient["name"]
        first, second = (feed(built.store, name, day) for day in DAYS)
        assert {r["status"] for r in first["rows"]} == {"new"}
        assert first["previous_period"] is None and second["previous_period"] == DAYS[0]
        key = lambda r: (r["ip"], r["type"], r["protocol"])  # noqa: E731
        before = {key(r) for r in built.expected[DAYS[0]] if _covers(recipient, r)}
        now = {key(r) for r in built.expected[DAYS[1]] if _covers(recipient, r)}
        statuses = {key(r): r["status"] for r in second["rows"]}
        assert {k for k, s in statuses.items() if s == "new"} == now - before
        assert {k for k, s in statuses.items() if s == "ongoing"} == now & before
        assert {k for k, s in statuses.items() if s == "gone"} == before - now
        assert all(r["count"] == 0 for r in second["rows"] if r["status"] == "gone")
        assert second["counts"] == dict(Counter(statuses.values())) | {
            s: 0 for s in ("new", "ongoing", "gone") if s not in statuses.values()
        }
        occurred |= {s for s, n in second["counts"].items() if n}
    assert occurred == {"new", "ongoing", "gone"}  # every status is put to the test


def test_research_scanners_and_sensor_addresses_are_never_listed(built: Built) -> None:
    assert tagged_sources(built.store, MIRAI, RESEARCH_ASN)  # infected, but on the list
    assert SENSOR_SOURCE in tagged_sources(built.store, MIRAI)  # a Mirai SYN from a sensor
    for day in DAYS:
        assert feed(built.store, "research", day)["rows"] == []
        assert feed(built.store, "sensors", day)["rows"] == []
    assert built.reports[DAYS[0]]["withheld_sensor_sources"] == 1  # SENSOR_SOURCE
    sensors = destinations(built.store)
    assert SENSOR_SOURCE in sensors
    files = list((built.store / "notify" / "feeds").rglob("*.*"))
    assert len(files) == 2 * 2 * len(built.recipients)
    for path in files:
        listed = {m.decode() for m in _IPV4.findall(path.read_bytes())}
        assert not listed & sensors, path
        assert b"198.18." not in path.read_bytes()


def test_the_csv_holds_the_json_rows_under_a_header(built: Built) -> None:
    body = feed(built.store, "by-asn", DAYS[1])
    text = (built.store / "notify" / "feeds" / "by-asn" / f"{DAYS[1]}.csv").read_text()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0].startswith("# TLP:AMBER")
    joined = "\n".join(comments)
    assert f"period: {DAYS[1]}" in joined and f"previous feed: {DAYS[0]}" in joined
    assert "teiten-test-asn" in joined and "a darknet sensor" in joined
    assert body["digest"] in joined
    rows = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[len(comments) :]))))
    assert len(rows) == len(body["rows"])
    for line, row in zip(rows, body["rows"], strict=True):
        assert line["ip"] == row["ip"] and line["status"] == row["status"]
        assert line["dst_port"] == " ".join(map(str, row["dst_port"]))
        assert line["asn"] == ("" if row["asn"] is None else str(row["asn"]))


def test_rebuilding_a_period_changes_nothing(built: Built) -> None:
    files = sorted((built.store / "notify" / "feeds").rglob("*.*"))
    before = {p: p.read_bytes() for p in files}
    for day in DAYS:
        again = build(built.store, built.config, day)
        assert not any(f["changed"] for f in again["feeds"])
        assert [f["digest"] for f in again["feeds"]] == [
            f["digest"] for f in built.reports[day]["feeds"]
        ]
    assert {p: p.read_bytes() for p in files} == before


def test_a_finding_kind_not_received_is_not_listed(built: Built) -> None:
    body = feed(built.store, "mirai-only", DAYS[1])
    assert {r["type"] for r in body["rows"]} == {"mirai"}
    assert [f["type"] for f in body["findings"]] == ["mirai"]
    assert {r["type"] for r in feed(built.store, "by-country", DAYS[1])["rows"]} == set(KINDS)
