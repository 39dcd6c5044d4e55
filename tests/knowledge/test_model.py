"""`as_of`: what a publication about a period may cite is what was known on its last day."""

from __future__ import annotations

from datetime import date

from knowledge._kb import weblogic_kb
from teiten.knowledge import Cve, KnowledgeBase, Malware, Product, load_knowledge

DAY = date(2019, 6, 30)


def _kb() -> KnowledgeBase:
    return weblogic_kb(
        products=(Product("Oracle WebLogic Server", ("oracle",), ("weblogic_server",)),),
        malware=(
            Malware("Old", sources=("https://example.org/old",), reported=date(2018, 1, 2)),
            Malware("Same day", sources=("https://example.org/s",), reported=DAY),
            Malware("Later", sources=("https://example.org/later",), reported=date(2019, 7, 1)),
            Malware("Undated", sources=("https://example.org/undated",)),
        ),
        cves=(
            Cve("CVE-2020-14882", "later", date(2020, 10, 21)),
            Cve("CVE-2019-9999", "on the day", DAY),
            Cve("CVE-2019-2725", "earlier", date(2019, 4, 26)),
            Cve("CVE-2019-1111", "a KEV link without a date", None, origin="cisa-kev"),
        ),
    )


def _ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


def test_items_as_of_keeps_what_was_known_that_day():
    kb = _kb()
    assert _ids(kb.items("tcp", 7001, as_of=DAY)) == [
        "CVE-2019-9999",  # published on the day: known
        "CVE-2019-2725",
        "Old",
        "Same day",
        "Undated",  # no date: stays
        "oracle:weblogic_server",  # products have no date
    ]
    rows = {r["id"]: r for r in kb.items("tcp", 7001, as_of=DAY)}
    assert rows["Old"]["published"] == "2018-01-02" and rows["Undated"]["published"] is None


def test_without_as_of_everything_is_listed():
    everything = _ids(_kb().items("tcp", 7001))
    assert {"CVE-2020-14882", "CVE-2019-1111", "Later"} <= set(everything)
    assert _ids(_kb().items("tcp", 7001, as_of=date(2030, 1, 1))) == [
        i
        for i in everything
        if i != "CVE-2019-1111"  # an undated CVE is never "known then"
    ]


def test_for_port_as_of_cuts_the_entry_the_same_way():
    kb = _kb()
    entry = kb.for_port("TCP", 7001, as_of=DAY)
    assert entry is not None and entry.label == "7001/tcp"
    assert [c.id for c in entry.cves] == ["CVE-2019-9999", "CVE-2019-2725"]
    assert [m.name for m in entry.malware] == ["Old", "Same day", "Undated"]
    assert entry.items() == kb.items("tcp", 7001, as_of=DAY)
    assert kb.for_port("tcp", 7001) is kb.entries[("tcp", 7001)]  # untouched without as_of
    assert kb.for_port("tcp", 23, as_of=DAY) is None and kb.items("icmp", None, as_of=DAY) == []


def test_the_packaged_base_before_and_after():
    kb = load_knowledge()
    q2 = _ids(kb.items("tcp", 7001, as_of=DAY))
    assert "CVE-2019-2725" in q2 and "CVE-2020-14882" not in q2
    assert "CVE-2024-6387" not in _ids(kb.items("tcp", 22, as_of=DAY))
    assert "CVE-2024-6387" in _ids(kb.items("tcp", 22, as_of=date(2024, 7, 1)))
    assert not {"P2PInfect", "Redigo"} & set(_ids(kb.items("tcp", 6379, as_of=DAY)))
    assert "Meris" not in _ids(kb.items("tcp", 8291, as_of=DAY))
    assert "Kinsing" not in _ids(kb.items("tcp", 2375, as_of=DAY))


def _bluekeep(**dates) -> Cve:
    return Cve("CVE-2019-0708", "BlueKeep", title_ja="BlueKeep の脆弱性", **dates)


def test_a_cve_the_vendor_disclosed_before_nvd_is_known_from_the_vendors_day():
    """Microsoft published BlueKeep on 2019-05-14, NVD on 2019-05-16: on the 15th it was
    public, so a publication about a period ending that day may cite it."""
    cve = _bluekeep(published=date(2019, 5, 16), disclosed=date(2019, 5, 14))
    assert cve.first_public == date(2019, 5, 14)
    kb = weblogic_kb(cves=(cve,))
    assert _ids(kb.items("tcp", 7001, as_of=date(2019, 5, 15))) == ["CVE-2019-0708"]
    assert _ids(kb.items("tcp", 7001, as_of=date(2019, 5, 14))) == ["CVE-2019-0708"]
    assert kb.items("tcp", 7001, as_of=date(2019, 5, 13)) == []
    (row,) = kb.items("tcp", 7001, as_of=date(2019, 5, 15))
    assert (row["published"], row["disclosed"]) == ("2019-05-16", "2019-05-14")  # NVD stays
    assert row["title_ja"] == "BlueKeep の脆弱性"


def test_first_public_is_the_earlier_date_or_none():
    nvd_only = _bluekeep(published=date(2019, 5, 16))
    assert nvd_only.first_public == date(2019, 5, 16)
    later_vendor = _bluekeep(published=date(2019, 5, 16), disclosed=date(2019, 5, 20))
    assert later_vendor.first_public == date(2019, 5, 16)
    assert _bluekeep(published=None).first_public is None
    assert _bluekeep(published=None, disclosed=date(2019, 5, 14)).first_public == date(2019, 5, 14)


def test_cves_are_sorted_by_the_day_they_became_public():
    early_vendor = Cve("CVE-2019-0001", "a", date(2019, 6, 1), disclosed=date(2019, 4, 1))
    middle = Cve("CVE-2019-0002", "b", date(2019, 5, 1))
    undated = Cve("CVE-2019-0003", "c", None, origin="cisa-kev")
    ordered = sorted([undated, early_vendor, middle], key=Cve.sort_key)
    assert [c.id for c in ordered] == ["CVE-2019-0002", "CVE-2019-0001", "CVE-2019-0003"]


def test_the_packaged_base_cites_bluekeep_from_microsofts_day():
    kb = load_knowledge()
    (bluekeep,) = [c for c in kb.for_port("tcp", 3389).cves if c.id == "CVE-2019-0708"]
    assert (bluekeep.disclosed, bluekeep.published) == (date(2019, 5, 14), date(2019, 5, 16))
    assert "CVE-2019-0708" in _ids(kb.items("tcp", 3389, as_of=date(2019, 5, 15)))
    assert "CVE-2019-0708" not in _ids(kb.items("tcp", 3389, as_of=date(2019, 5, 13)))


def test_a_summary_is_shown_once_everything_it_names_was_public():
    """A report about 2019Q2 may not tell the reader of JPCERT/CC's 2023 ranking, nor name
    a CVE published later: the summary is left out until then."""
    kb = load_knowledge()
    for day in (date(2015, 12, 31), DAY, date(2020, 6, 30), date(2023, 3, 31)):
        for entry in kb.entries.values():
            shown = entry.known_on(day)
            public = entry.summary_public
            if public is not None and public > day:
                assert shown.summary == shown.summary_ja == "", (entry.label, day)
            else:
                assert (shown.summary, shown.summary_ja) == (entry.summary, entry.summary_ja)
    # What the summaries name: the end of a year, a CVE's own day, no version or port.
    entries = kb.entries
    assert entries[("tcp", 22)].summary_public == date(2025, 12, 31)  # "in 2019 and 2025Q2"
    assert entries[("tcp", 7002)].summary_public == date(2020, 10, 20)  # CVE-2020-14882
    assert entries[("tcp", 37215)].summary_public == date(2017, 12, 31)  # "since late 2017"
    assert entries[("udp", 11211)].summary_public == date(2018, 12, 31)  # not "1.5.6"
    assert entries[("tcp", 23)].summary_public is None
    assert kb.for_port("tcp", 22, as_of=DAY).summary == ""
    assert kb.for_port("tcp", 37215, as_of=DAY).summary.startswith("Huawei HG532")
