"""The packaged knowledge base: loads, covers the ports, dates its CVEs, agrees with IANA."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date

import pytest

from conftest import DATA, ROOT
from teiten.knowledge import load_knowledge
from teiten.knowledge.model import CVE_ID

IANA_CSV = DATA / "iana-service-names-port-numbers.csv"

REQUIRED_PORTS = [
    *[("tcp", p) for p in (23, 2323, 445, 22, 80, 8080, 37215, 52869, 3389, 1433, 5555, 81)],
    *[("tcp", p) for p in (8443, 6379, 9200, 60001, 8081, 7547, 5900, 3306, 139, 21, 25)],
    *[("tcp", p) for p in (443, 2375, 2376, 6443, 10250, 9530, 34567, 9527, 23231, 8291, 7001)],
    *[("udp", p) for p in (5060, 123, 1900, 53, 137, 11211)],
]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def test_packaged_file_loads_once_with_its_edition(kb):
    assert load_knowledge() is kb
    assert isinstance(kb.edition, date) and kb.edition.year >= 2026
    assert kb.title and kb.path.endswith("ports.toml")
    assert kb.describe()["edition"] == kb.edition.isoformat()


@pytest.mark.parametrize(("proto", "port"), REQUIRED_PORTS, ids=lambda v: str(v))
def test_every_listed_port_is_described(kb, proto, port):
    entry = kb.for_port(proto, port)
    assert entry is not None, f"{port}/{proto} missing"
    assert entry.service and entry.summary and entry.references


def test_every_cve_is_well_formed_dated_and_sourced(kb):
    cves = [(entry, cve) for entry in kb for cve in entry.cves]
    assert len(cves) >= 25
    for entry, cve in cves:
        year = int(CVE_ID.match(cve.id)[1])
        assert isinstance(cve.published, date), cve.id
        assert year <= cve.published.year and cve.published <= kb.edition, cve.id
        assert f"https://nvd.nist.gov/vuln/detail/{cve.id}" in cve.sources, cve.id
        assert cve.product in {p.name for p in entry.products}, (entry.label, cve.id)
    for entry in kb:
        for item in (*entry.malware, *entry.products):
            assert all(re.match(r"^https?://", url) for url in item.sources)
        assert all(m.sources for m in entry.malware), entry.label


# NVD publication dates checked against NVD's records (fkie-cad/nvd-json-data-feeds).
KNOWN = {
    ("tcp", 37215, "CVE-2017-17215"): date(2018, 3, 20),
    ("tcp", 52869, "CVE-2014-8361"): date(2015, 5, 1),
    ("tcp", 3389, "CVE-2019-0708"): date(2019, 5, 16),
    ("tcp", 445, "CVE-2017-0144"): date(2017, 3, 17),
    ("tcp", 7547, "CVE-2016-10372"): date(2017, 5, 16),
    ("tcp", 8291, "CVE-2018-14847"): date(2018, 8, 2),
    ("tcp", 7001, "CVE-2019-2725"): date(2019, 4, 26),
    ("tcp", 7001, "CVE-2020-14882"): date(2020, 10, 21),
    ("tcp", 6443, "CVE-2018-1002105"): date(2018, 12, 5),
    ("udp", 11211, "CVE-2018-1000115"): date(2018, 3, 5),
    ("udp", 123, "CVE-2013-5211"): date(2014, 1, 2),
    ("tcp", 6379, "CVE-2022-0543"): date(2022, 2, 18),
}


@pytest.mark.parametrize(("key", "published"), KNOWN.items(), ids=lambda v: str(v))
def test_key_cves_sit_on_their_ports_with_nvd_dates(kb, key, published):
    proto, port, cve_id = key
    cves = {c.id: c for c in kb.for_port(proto, port).cves}
    assert cves[cve_id].published == published


def test_key_malware(kb):
    def names(proto, port):
        return {m.name for m in kb.for_port(proto, port).malware}

    assert "Mirai" in names("tcp", 23)
    assert "WannaCry" in names("tcp", 445)
    assert "Satori" in names("tcp", 37215) & names("tcp", 52869)
    assert "ADB.Miner" in names("tcp", 5555)
    assert "Kinsing" in names("tcp", 2375)


def _iana() -> dict[tuple[str, int], set[str]]:
    names: dict[tuple[str, int], set[str]] = defaultdict(set)
    with open(IANA_CSV, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            number, proto, name = row["Port Number"], row["Transport Protocol"], row["Service Name"]
            if number.isdecimal() and proto and name:
                names[(proto, int(number))].add(name)
    return names


def test_registered_names_agree_with_iana():
    """`registered` is IANA's service name wherever IANA has one, and absent otherwise."""
    iana = _iana()
    assert "telnet" in iana[("tcp", 23)]  # the reference file is what we think it is
    for entry in load_knowledge():
        expected = iana.get((entry.proto, entry.port), set())
        if expected:
            assert entry.registered in expected, (entry.label, entry.registered, expected)
        else:
            assert entry.registered is None, (entry.label, entry.registered)


def test_items_follow_the_rankings_contract(kb):
    rows = kb.items("tcp", 445)
    assert rows and all(set(r) == {"kind", "id", "title", "published"} for r in rows)
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=["cve", "malware", "product"].index)
    dates = [r["published"] for r in rows if r["kind"] == "cve"]
    assert dates == sorted(dates, reverse=True)
    assert all(date.fromisoformat(d) for d in dates)
    assert all(r["published"] is None for r in rows if r["kind"] != "cve")


def test_lookups_for_unknown_ports_and_icmp_rows(kb):
    assert kb.for_port("TCP", 23) is kb.for_port("tcp", 23)
    assert kb.for_port("tcp", 4444) is None and kb.items("tcp", 4444) == []
    assert kb.for_port("icmp", None) is None and kb.items("icmp", None) == []
    assert kb.for_port("udp", 23) is None


def test_docs_describe_every_field():
    text = (ROOT / "docs" / "knowledge.md").read_text()
    from teiten.knowledge import loader

    fields = [*loader._PORT_FIELDS, *loader._PRODUCT_FIELDS, *loader._MALWARE_FIELDS]
    for name in {*fields, *loader._CVE_FIELDS, *loader._TOP_FIELDS}:
        assert f"`{name}`" in text, f"docs/knowledge.md does not describe `{name}`"
    for command in ("teiten explain", "teiten knowledge import", "kb.items("):
        assert command in text
