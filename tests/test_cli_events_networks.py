"""`teiten events scans|dos --asn N --prefix CIDR`: the events of a period whose scanning
source (DoS: victim) is in the ASes and networks asked for, on a store whose sources
carry AS numbers. The selected rows are the unfiltered rows filtered by hand (the AS
number, and the address's containment per :mod:`ipaddress`), in the same order; a bad
network is the CLI's usage error."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from _infected_store import PERIOD, infected_store
from teiten.cli import main

KEY = {"scans": "source", "dos": "victim"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return infected_store(tmp_path_factory.mktemp("events-networks"))


def _events(store: Path, family: str, *args: str) -> dict:
    command = ["events", family, "--store", str(store), "--period", PERIOD, "--json"]
    result = CliRunner().invoke(main, [*command, "--limit", "100000", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _by_hand(rows: list[dict], key: str, asns: set[int], networks: list[str]) -> list[dict]:
    nets = [ipaddress.ip_network(n) for n in networks]
    return [
        r
        for r in rows
        if (not asns or r["asn"] in asns)
        and (not nets or any(ipaddress.ip_address(r[key]) in n for n in nets))
    ]


@pytest.mark.parametrize("family", ["scans", "dos"])
def test_selected_events_are_the_unfiltered_ones_filtered_by_hand(store, family):
    everything = _events(store, family)
    rows, key = everything["rows"], KEY[family]
    assert len(rows) == everything["total"]["events"] >= 4  # dos: 4 attacks, 4 ASes
    assert "filters" not in everything  # unfiltered: the answer as before
    busiest = [asn for asn, _ in Counter(r["asn"] for r in rows if r["asn"]).most_common(2)]
    first = ipaddress.ip_address(rows[0][key])
    near = str(ipaddress.ip_network(f"{first}/8", strict=False))
    for asns, networks in (
        ([busiest[0]], []),
        (busiest, []),
        ([], [near]),
        ([], ["0.0.0.0/2", "192.0.0.0/3"]),
        (busiest, [near, "2000::/3"]),
        ([4_000_000_000], []),
    ):
        args = [a for asn in asns for a in ("--asn", str(asn))]
        args += [a for net in networks for a in ("--prefix", net)]
        found = _events(store, family, *args)
        want = _by_hand(rows, key, set(asns), networks)
        assert found["rows"] == want, (asns, networks)
        assert found["total"] == {**everything["total"], "events": len(want)}
        assert found["filters"] == {
            **({"asns": sorted(asns)} if asns else {}),
            **({"prefixes": networks} if networks else {}),
        }
        assert {k: v for k, v in found.items() if k not in ("rows", "total", "filters")} == {
            k: v for k, v in everything.items() if k not in ("rows", "total")
        }
        if (asns, networks) in ((busiest, []), ([], [near])):
            assert want, (asns, networks)  # the filter selects something


@pytest.mark.parametrize("family", ["scans", "dos"])
def test_the_limit_applies_after_the_selection(store, family):
    asn = next(r["asn"] for r in _events(store, family)["rows"] if r["asn"])
    all_of_it = _events(store, family, "--asn", str(asn))
    command = ["events", family, "--store", str(store), "--period", PERIOD, "--json"]
    result = CliRunner().invoke(main, [*command, "--asn", str(asn), "--limit", "2"])
    found = json.loads(result.output)
    assert found["rows"] == all_of_it["rows"][:2]
    assert found["total"]["events"] == all_of_it["total"]["events"]


@pytest.mark.parametrize("family", ["scans", "dos"])
def test_the_table_names_the_filters_and_a_bad_network_is_a_usage_error(store, family):
    command = ["events", family, "--store", str(store), "--period", PERIOD]
    shown = CliRunner().invoke(main, [*command, "--prefix", "10.0.0.0/8", "--asn", "64500"])
    assert shown.exit_code == 0, shown.output
    title = " ".join(shown.output.split())  # the table's title, however rich wrapped it
    assert "— AS 64500, source in 10.0.0.0/8" in title
    bad = CliRunner().invoke(main, [*command, "--prefix", "1.2.3/8"])
    assert bad.exit_code == 2
    assert "Invalid value for '--prefix'" in bad.output and "expected a network in CIDR" in (
        bad.output
    )
    assert "Traceback" not in bad.output
    bad = CliRunner().invoke(main, [*command, "--asn", "AS64500"])
    assert bad.exit_code == 2 and "Invalid value for '--asn'" in bad.output
