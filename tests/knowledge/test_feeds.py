"""Importing KEV and NVD feeds: CVEs linked to the right ports, broken feeds change nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest

from teiten.errors import KnowledgeError
from teiten.knowledge import import_feed, load_knowledge

from .feeds import (
    NEW_ES_CVE,
    NEW_RDP_CVE,
    good_kev,
    good_nvd,
    kev_catalog,
    kev_entry,
    nvd_cve,
    nvd_feed,
)


def _links(report):
    return {(link["port"], link["proto"], link["cve"]) for link in report.links}


def _snapshot(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_kev_catalog_links_cves_through_products(write_json, store):
    report = import_feed(write_json("kev.json", good_kev()), store)
    assert report.source == "cisa-kev" and report.entries == 7
    assert report.feed_version == "2026.11.20"
    assert report.feed_date == "2026-11-20T15:04:05.000Z"
    assert _links(report) == {
        (37215, "tcp", "CVE-2017-17215"),
        (52869, "tcp", "CVE-2014-8361"),  # through the 'miniigd' keyword
        (7001, "tcp", "CVE-2020-14882"),
        (7002, "tcp", "CVE-2020-14882"),  # WebLogic's SSL port
        (8001, "tcp", "CVE-2020-14882"),  # and its other common listen port
        (8291, "tcp", "CVE-2018-14847"),
        (8728, "tcp", "CVE-2018-14847"),  # RouterOS API
        (2000, "tcp", "CVE-2018-14847"),  # RouterOS bandwidth test
        (3389, "tcp", NEW_RDP_CVE),  # Microsoft + 'Remote Desktop'; Office links nowhere
    }
    with open(report.stored) as f:
        stored = json.load(f)
    assert stored["format"] == "teiten-knowledge-import" and stored["source"] == "cisa-kev"
    assert stored["feed_version"] == "2026.11.20" and len(stored["links"]) == 9
    assert report.stored.startswith(str(store / "knowledge" / "imported-"))


def test_imports_are_merged_by_load_knowledge(write_json, store):
    import_feed(write_json("kev.json", good_kev()), store)
    kb = load_knowledge(store=store)
    rdp = {c.id: c for c in kb.for_port("tcp", 3389).cves}
    assert rdp[NEW_RDP_CVE].origin == "cisa-kev" and rdp[NEW_RDP_CVE].published is None
    assert rdp["CVE-2019-0708"].origin == "curated"  # curated records are kept
    hg532 = [c for c in kb.for_port("tcp", 37215).cves if c.id == "CVE-2017-17215"]
    assert len(hg532) == 1 and hg532[0].origin == "curated"
    rows = kb.items("tcp", 3389)
    assert rows[0]["id"] == "CVE-2019-0708" and rows[1]["id"] == NEW_RDP_CVE  # undated last
    assert rows[1] == {
        "kind": "cve",
        "id": NEW_RDP_CVE,
        "title": "Microsoft Windows Remote Desktop Services Remote Code Execution Vulnerability",
        "title_ja": "",  # feed links have no Japanese title; only curated CVEs must
        "published": None,
        "disclosed": None,
    }
    (feed,) = kb.imports
    assert (feed.source, feed.feed_version, feed.links) == ("cisa-kev", "2026.11.20", 9)
    assert load_knowledge().for_port("tcp", 3389) is not kb.for_port("tcp", 3389)
    assert NEW_RDP_CVE not in {c.id for c in load_knowledge().for_port("tcp", 3389).cves}


def test_nvd_feed_links_vulnerable_cpes(write_json, store):
    report = import_feed(write_json("nvd.json", good_nvd()), store)
    assert report.source == "nvd" and report.entries == 5
    assert (report.feed_version, report.feed_date) == ("2.0", "2026-11-27T08:00:00.000")
    assert _links(report) == {
        (37215, "tcp", "CVE-2017-17215"),  # hg532_firmware, the vulnerable CPE
        (11211, "udp", "CVE-2018-1000115"),
        (11211, "tcp", "CVE-2018-1000115"),
        (445, "tcp", "CVE-2017-0144"),
        (139, "tcp", "CVE-2017-0144"),
        (9200, "tcp", NEW_ES_CVE),
    }
    kb = load_knowledge(store=store)
    es = {c.id: c for c in kb.for_port("tcp", 9200).cves}
    assert es[NEW_ES_CVE].published == date(2099, 1, 2) and es[NEW_ES_CVE].origin == "nvd"
    assert kb.items("tcp", 9200)[0]["id"] == NEW_ES_CVE  # newest first


def test_nvd_dates_complete_kev_links(write_json, store):
    kev = kev_catalog([kev_entry(NEW_ES_CVE, "Elastic", "Elasticsearch", "Synthetic ES flaw")])
    import_feed(write_json("kev.json", kev), store)
    cves = {c.id: c for c in load_knowledge(store=store).for_port("tcp", 9200).cves}
    assert cves[NEW_ES_CVE].published is None
    import_feed(write_json("nvd.json", good_nvd()), store)
    cves = {c.id: c for c in load_knowledge(store=store).for_port("tcp", 9200).cves}
    assert cves[NEW_ES_CVE].published == date(2099, 1, 2)


def test_importing_the_same_feed_again_replaces_it(write_json, store):
    path = write_json("kev.json", good_kev())
    first = import_feed(path, store)
    again = import_feed(path, store)
    assert not first.replaced and again.replaced and first.stored == again.stored
    assert len(list((store / "knowledge").glob("imported-*.json"))) == 1
    assert len(load_knowledge(store=store).imports) == 1


def _kev_without(field):
    doc = good_kev()
    del doc["vulnerabilities"][2][field]
    return doc


def _nvd_with(index, key, value):
    doc = good_nvd()
    record = doc["vulnerabilities"][index]["cve"]
    if value is None:
        del record[key]
    else:
        record[key] = value
    return doc


def _bad_criteria():
    doc = good_nvd()
    match = doc["vulnerabilities"][1]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0]
    match["criteria"] = "memcached:memcached"
    return doc


BROKEN = {
    "not-json": ("{ 'catalogVersion': ", None, None, "not JSON"),
    "a-list": ([], None, "vulnerabilities", "'vulnerabilities' array"),
    "neither": ({"vulnerabilities": [{"id": 1}]}, None, "vulnerabilities", "neither"),
    "kev-missing-field": (
        _kev_without("vendorProject"),
        "#2 CVE-2020-14882",
        "vendorProject",
        "missing",
    ),
    "kev-bad-id": (
        kev_catalog([kev_entry("CVE-17-17215", "Huawei", "HG532", "x")]),
        "#0",
        "cveID",
        "not a CVE id",
    ),
    "kev-bad-date": (
        kev_catalog([kev_entry("CVE-2017-17215", "Huawei", "HG532", "x", added="2021-13-03")]),
        "#0 CVE-2017-17215",
        "dateAdded",
        "ISO 8601",
    ),
    "kev-no-version": (
        {k: v for k, v in good_kev().items() if k != "catalogVersion"},
        None,
        "catalogVersion",
        "missing",
    ),
    "nvd-missing-published": (
        _nvd_with(1, "published", None),
        "#1 CVE-2018-1000115",
        "cve.published",
        "missing",
    ),
    "nvd-bad-criteria": (
        _bad_criteria(),
        "#1 CVE-2018-1000115",
        "cve.configurations[0].nodes[0].cpeMatch[0].criteria",
        "CPE 2.3",
    ),
    "nvd-entry-not-object": (
        nvd_feed([nvd_cve("CVE-2017-17215", "2018-03-20T15:29:00", "x"), 7]),
        "#1",
        "cve",
        "'cve' object",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_feeds_name_the_problem_and_change_nothing(tmp_path, write_json, store, case):
    doc, entry, field, words = BROKEN[case]
    import_feed(write_json("earlier.json", good_kev()), store)  # something already stored
    before = _snapshot(store)
    if isinstance(doc, str):
        path = tmp_path / "feed.json"
        path.write_text(doc)
    else:
        path = write_json("feed.json", doc)
    with pytest.raises(KnowledgeError) as info:
        import_feed(path, store)
    error = info.value
    assert str(path) in str(error) and words in str(error), str(error)
    assert (error.entry, error.field) == (entry, field)
    if case == "not-json":
        assert error.line == 1
    assert _snapshot(store) == before
    assert len(load_knowledge(store=store).imports) == 1


def test_missing_feed_file(tmp_path, store):
    with pytest.raises(KnowledgeError, match="cannot read"):
        import_feed(tmp_path / "absent.json", store)
    assert not (store / "knowledge").exists()


def test_a_damaged_stored_import_is_named(write_json, store):
    report = import_feed(write_json("kev.json", good_kev()), store)
    with open(report.stored) as f:
        doc = json.load(f)
    doc["links"][0]["port"] = "37215"
    with open(report.stored, "w") as f:
        json.dump(doc, f)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(store=store)
    assert report.stored in str(info.value) and info.value.field == "links[0].port"


def test_a_store_without_imports_is_fine(tmp_path):
    kb = load_knowledge(store=tmp_path / "no-such-store")
    assert kb.imports == () and len(kb) == len(load_knowledge())
