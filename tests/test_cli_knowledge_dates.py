"""Nothing cites what was unknown at the time: `top ports --explain`, `phenomena` and
`report` for a period list no CVE published (no malware reported) after its last day,
while a later period lists them; `explain --period` shows the same cut.

The store: `teiten simulate` of the last two days of 2019Q2 and of 2024Q4, with 7001/tcp
WebLogic scanning (CVE-2019-2725 of 2019-04-26, CVE-2020-14882 of 2020-10-21) beside the
catalogue's 22/tcp (CVE-2024-6387), 445/tcp (CVE-2020-0796) and 6379/tcp (P2PInfect,
Redigo) traffic. Two days of the `calm` scenario (no 7001/tcp) at the end of each
previous quarter give the comparison, so 7001/tcp is a new entrant of both (a store's
first period has no new entrants: nothing to compare with).
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from teiten.cli import main
from teiten.knowledge import load_knowledge

Q2_END = date(2019, 6, 30)
SCENARIO = """\
name = "weblogic"
description = "7001/TCP scanning all along"

[[campaigns]]
id = "weblogic-scan"
like = "web-scan"
ports = { 7001 = 1.0 }
weight = 0.1
source_share = 0.01
"""


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("dates")
    scenario = root / "weblogic.toml"
    scenario.write_text(SCENARIO)
    store = str(root / "store")
    for start, end in (("2019-03-30", "2019-04-01"), ("2024-09-29", "2024-10-01")):
        run("simulate", "--store", store, "--start", start, "--end", end,
            "--packets", "20000", "--scenario", "calm")  # fmt: skip
    for start, end in (("2019-06-29", "2019-07-01"), ("2024-12-30", "2025-01-01")):
        run("simulate", "--store", store, "--start", start, "--end", end,
            "--packets", "20000", "--scenario", str(scenario))  # fmt: skip
    return store


def later_than(day: date) -> set[str]:
    """Every CVE id and malware name the knowledge base dates after ``day`` (a CVE by the
    day it became public, by the vendor or NVD)."""
    kb = load_knowledge()
    cves = {c.id for e in kb for c in e.cves if c.first_public and c.first_public > day}
    malware = {m.name for e in kb for m in e.malware if m.reported and m.reported > day}
    return cves | malware


def top_ports(store: str, period: str) -> dict[int, list[dict]]:
    args = ("top", "ports", "--store", store, "--period", period, "--limit", "100")
    rows = json.loads(run(*args, "--explain", "--json"))["rows"]
    return {r["port"]: r["knowledge"] for r in rows if r["proto"] == "tcp"}


def ids(items: list[dict]) -> set[str]:
    return {i["id"] for i in items}


def test_top_ports_explain_cites_only_what_was_known(store):
    q2 = top_ports(store, "2019Q2")
    assert {7001, 22, 445, 6379} <= set(q2)
    for item in (i for items in q2.values() for i in items):
        assert set(item) == {"kind", "id", "title", "title_ja", "published", "disclosed"}
        public = item["disclosed"] or item["published"]  # the vendor's day, else NVD's
        assert public is None or date.fromisoformat(public) <= Q2_END
    assert not {i for items in q2.values() for i in ids(items)} & later_than(Q2_END)
    assert "CVE-2019-2725" in ids(q2[7001]) and "CVE-2020-14882" not in ids(q2[7001])
    assert "CVE-2024-6387" not in ids(q2[22]) and "CVE-2020-0796" not in ids(q2[445])
    assert not {"P2PInfect", "Redigo"} & ids(q2[6379])
    assert "WannaCry" in ids(q2[445])  # undated malware and products stay

    q4 = top_ports(store, "2024Q4")  # a later period shows them
    assert {"CVE-2020-14882", "CVE-2019-2725"} <= ids(q4[7001])
    assert "CVE-2024-6387" in ids(q4[22]) and "CVE-2020-0796" in ids(q4[445])
    assert {"P2PInfect", "Redigo"} <= ids(q4[6379])


def test_phenomena_and_report_cite_nothing_from_after_the_period(store, tmp_path):
    future = later_than(Q2_END)
    assert {"CVE-2020-14882", "CVE-2024-6387", "CVE-2020-0796", "P2PInfect"} <= future
    q2 = json.loads(run("phenomena", "--store", store, "--period", "2019Q2", "--json"))
    cited = {i["id"] for f in q2["findings"] for i in f["knowledge"]}
    assert "CVE-2019-2725" in cited, "7001/tcp enters the top 5 with its knowledge"
    assert not cited & future
    assert not set(re.findall(r"CVE-\d{4}-\d+", json.dumps(q2))) & future
    q4 = json.loads(run("phenomena", "--store", store, "--period", "2024Q4", "--json"))
    assert "CVE-2020-14882" in {i["id"] for f in q4["findings"] for i in f["knowledge"]}
    for lang in ("ja", "en"):
        out = tmp_path / f"q2-{lang}.md"
        run("report", "--store", store, "--period", "2019Q2", "--out", str(out), "--lang", lang)
        text = out.read_text(encoding="utf-8")
        assert not {name for name in future if name in text}, lang


def test_explain_period_shows_what_was_known_then(store):
    everything = json.loads(run("explain", "7001", "--store", store, "--json"))
    assert everything["as_of"] is None and "CVE-2020-14882" in ids(everything["items"])
    then = json.loads(run("explain", "7001", "--store", store, "--period", "2019Q2", "--json"))
    assert then["as_of"] == "2019-06-30"
    assert ids(then["items"]) == {"CVE-2019-2725", "CVE-2017-10271", "oracle:weblogic_server"}
    assert {c["id"] for c in then["cves"]} == {"CVE-2019-2725", "CVE-2017-10271"}
    redis = json.loads(run("explain", "6379", "--store", store, "--period", "2022Q4", "--json"))
    assert [m["name"] for m in redis["malware"]] == ["Redigo"]  # reported 2022-12-01
    text = run("explain", "7001", "--store", store, "--period", "2019-06-30")
    assert "as known on 2019-06-30" in text and "CVE-2020-14882" not in text
