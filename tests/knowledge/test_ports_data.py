"""The packaged knowledge base: loads, covers the ports, dates its CVEs, agrees with IANA."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date

import pytest

from conftest import DATA, ROOT
from teiten.knowledge import load_knowledge
from teiten.knowledge.model import CVE_ID, has_japanese

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


# The day the vendor (or a coordinator) first published it, where NVD came later.
VENDOR = {
    "CVE-2019-0708": date(2019, 5, 14),  # Microsoft, May 2019 security updates
    "CVE-2017-0144": date(2017, 3, 14),  # Microsoft MS17-010
    "CVE-2020-0796": date(2020, 3, 10),  # Microsoft ADV200005
    "CVE-2017-10271": date(2017, 10, 17),  # Oracle CPU October 2017
    "CVE-2020-14882": date(2020, 10, 20),  # Oracle CPU October 2020
    "CVE-2017-17215": date(2017, 11, 30),  # Huawei security notice
    "CVE-2018-14847": date(2018, 4, 23),  # MikroTik, RouterOS 6.42.1
    "CVE-2018-1000115": date(2018, 2, 27),  # memcached 1.5.6 release notes
}
# Where the vendor's date is the NVD date, nothing earlier is recorded.
SAME_DAY = {"CVE-2019-2725", "CVE-2024-6387", "CVE-2008-4250", "CVE-2014-0160", "CVE-2022-0543"}


@pytest.mark.parametrize(("cve_id", "disclosed"), VENDOR.items())
def test_vendor_dates(kb, cve_id, disclosed):
    records = {c for entry in kb for c in entry.cves if c.id == cve_id}  # maybe on several ports
    (cve,) = records
    assert cve.disclosed == disclosed and cve.first_public == disclosed < cve.published


def test_same_day_publications_carry_no_vendor_date(kb):
    cves = {c.id: c for entry in kb for c in entry.cves}
    assert all(cves[i].disclosed is None and cves[i].advisories for i in SAME_DAY)


def test_every_curated_entry_speaks_japanese(kb):
    """summary_ja for every port (notes_ja where there are notes), notes_ja for every
    malware family with notes, title_ja for every CVE: Japanese text, kana or kanji."""
    for entry in kb:
        assert has_japanese(entry.summary_ja), entry.label
        assert not entry.notes or has_japanese(entry.notes_ja), entry.label
        assert not entry.notes_ja or has_japanese(entry.notes_ja), entry.label
        for m in entry.malware:
            assert not m.notes or has_japanese(m.notes_ja), (entry.label, m.name)
        for p in entry.products:
            assert not p.name_ja or has_japanese(p.name_ja), (entry.label, p.name)
        for c in entry.cves:
            assert has_japanese(c.title_ja), (entry.label, c.id)


def test_japanese_style(kb):
    """です・ます調 sentences; 宛て (not 宛; 宛先 is a word of its own); no English sentence
    left in a Japanese text."""
    texts = [e.summary_ja for e in kb] + [m.notes_ja for e in kb for m in e.malware if m.notes]
    for text in texts:
        assert text.endswith(("です。", "ます。", "ました。", "でした。", "ません。", "）。")), text
        assert not re.search(r"宛(?![て先])", text), text
        assert not re.search(r"[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+", text), text
    titles = [c.title_ja for e in kb for c in e.cves]
    assert all(not re.search(r"宛(?![て先])", t) for t in titles)


def test_advisories_and_vendor_dates_are_sane(kb):
    """Advisories are https URLs; a vendor date is a plausible one (the vendor may well
    publish first, but not more than a year after NVD)."""
    for entry in kb:
        for c in entry.cves:
            assert all(url.startswith("https://") for url in c.advisories), c.id
            assert len(set(c.advisories)) == len(c.advisories), c.id
            if c.disclosed is not None:
                assert (c.disclosed - c.published).days <= 365, c.id
                assert c.disclosed <= kb.edition, c.id


def _iana() -> dict[tuple[str, int], set[str]]:
    names: dict[tuple[str, int], set[str]] = defaultdict(set)
    with open(IANA_CSV, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            number, proto, name = row["Port Number"], row["Transport Protocol"], row["Service Name"]
            low, _, high = number.partition("-")  # ranges (x11: 6000-6063) name each port
            if low.isdecimal() and (not high or high.isdecimal()) and proto and name:
                for port in range(int(low), int(high or low) + 1):
                    names[(proto, port)].add(name)
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


ROW_KEYS = {"kind", "id", "title", "title_ja", "published", "disclosed"}


def test_items_follow_the_rankings_contract(kb):
    rows = kb.items("tcp", 445)
    assert rows and all(set(r) == ROW_KEYS for r in rows)
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=["cve", "malware", "product"].index)
    dates = [r["disclosed"] or r["published"] for r in rows if r["kind"] == "cve"]
    assert dates == sorted(dates, reverse=True)  # newest first, by the day made public
    assert all(date.fromisoformat(r["published"]) for r in rows if r["kind"] == "cve")
    assert all(r["published"] is None for r in rows if r["kind"] != "cve")
    assert all(r["disclosed"] is None for r in rows if r["kind"] != "cve")
    assert all(has_japanese(r["title_ja"]) for r in rows if r["kind"] == "cve")


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


MOST_SEEN = [
    *[("tcp", p) for p in (23, 2323, 22, 80, 81, 443, 445, 1433, 3389, 5555, 5900, 6379, 7001)],
    *[("tcp", p) for p in (7547, 8080, 8291, 8443, 9200, 2375, 37215, 52869, 60001)],
    *[("udp", p) for p in (5060, 1900, 123, 53, 161, 11211)],
]


def test_the_ports_darknets_see_most_are_described(kb):
    """At least 100 ports, among them every port the issue names, each in Japanese."""
    assert len(list(kb)) >= 100
    for proto, port in MOST_SEEN:
        entry = kb.for_port(proto, port)
        assert entry is not None, (proto, port)
        assert has_japanese(entry.summary_ja), (proto, port)
