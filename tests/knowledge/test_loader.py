"""A malformed knowledge file is an error naming the file, line, entry and field."""

from __future__ import annotations

import pytest

from teiten.errors import KnowledgeError
from teiten.knowledge import load_knowledge

GOOD = """\
title = "test knowledge"
edition = 2026-11-28

[tcp.37215]
service = "upnp-tr064"
summary = "Huawei HG532 management service."
summary_ja = "Huawei HG532 の管理サービスです。"
references = ["https://nvd.nist.gov/vuln/detail/CVE-2017-17215"]

[[tcp.37215.product]]
name = "Huawei HG532 home gateway"
vendor = ["huawei"]
match = ["hg532"]

[[tcp.37215.malware]]
name = "Satori"
sources = ["https://ics-cert.kaspersky.com/publications/news/2017/12/14/satori"]

[[tcp.37215.cve]]
id = "CVE-2017-17215"
title = "Huawei HG532 remote code execution"
title_ja = "Huawei HG532 のリモートコード実行の脆弱性"
published = 2018-03-20
product = "Huawei HG532 home gateway"
sources = ["https://nvd.nist.gov/vuln/detail/CVE-2017-17215"]

[udp.53]
service = "domain"
registered = "domain"
summary = "DNS."
summary_ja = "DNS のポートです。"
references = ["https://www.us-cert.gov/ncas/alerts/TA14-017A"]
"""


def _load(tmp_path, text):
    path = tmp_path / "ports.toml"
    path.write_text(text)
    return path, load_knowledge(path)


def _error(tmp_path, text) -> KnowledgeError:
    path = tmp_path / "ports.toml"
    path.write_text(text)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(path)
    assert str(path) in str(info.value)
    return info.value


def _line_of(text: str, needle: str, start: str = "") -> int:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line) if start else 0
    return next(i for i in range(first, len(lines)) if needle in lines[i]) + 1


def test_a_good_file_loads(tmp_path):
    _, kb = _load(tmp_path, GOOD)
    assert kb.edition.isoformat() == "2026-11-28" and len(kb) == 2
    entry = kb.for_port("tcp", 37215)
    assert [c.id for c in entry.cves] == ["CVE-2017-17215"]
    assert entry.products[0].matches("huawei", "hg532", "")
    assert kb.for_port("udp", 53).registered == "domain"


def test_bad_toml_names_the_line(tmp_path):
    text = GOOD.replace('service = "domain"', 'service = = "domain"')
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "service = = ")
    assert "not valid TOML" in str(error)


def test_impossible_date_is_a_toml_error_with_its_line(tmp_path):
    text = GOOD.replace("published = 2018-03-20", "published = 2018-13-40")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "2018-13-40")


def test_missing_field(tmp_path):
    text = GOOD.replace('summary = "DNS."\n', "")  # summary_ja stays
    error = _error(tmp_path, text)
    assert (error.entry, error.field) == ("53/udp", "summary")
    assert error.line == _line_of(text, "[udp.53]")
    assert "53/udp" in str(error) and "'summary'" in str(error) and "missing" in str(error)


def test_date_given_as_a_string(tmp_path):
    text = GOOD.replace("published = 2018-03-20", 'published = "2018-03-20"')
    error = _error(tmp_path, text)
    assert (error.entry, error.field) == ("37215/tcp", "cve[0].published")
    assert error.line == _line_of(text, "published =")
    assert "TOML date" in str(error)


def test_bad_cve_id(tmp_path):
    text = GOOD.replace('id = "CVE-2017-17215"', 'id = "CVE-17-17215"')
    error = _error(tmp_path, text)
    assert (error.entry, error.field) == ("37215/tcp", "cve[0].id")
    assert error.line == _line_of(text, 'id = "CVE-17-17215"')


def test_unknown_protocol(tmp_path):
    text = GOOD + '\n[sctp.80]\nservice = "http"\nsummary = "x"\nreferences = []\n'
    error = _error(tmp_path, text)
    assert (error.entry, error.field) == ("sctp", "proto")
    assert error.line == _line_of(text, "[sctp.80]")
    assert "unknown protocol 'sctp'" in str(error)


def test_unknown_field_is_a_typo_not_ignored(tmp_path):
    text = GOOD.replace('name = "Satori"', 'name = "Satori"\nalias = ["Okiru"]')
    error = _error(tmp_path, text)
    assert (error.entry, error.field) == ("37215/tcp", "malware[0].alias")
    assert error.line == _line_of(text, "alias =")


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("[tcp.37215]", "[tcp.70000]", "port", "0-65535"),
        ("edition = 2026-11-28", "edition = 2017-01-01", "cve[0].published", "after the edition"),
        ("published = 2018-03-20", "published = 2016-03-20", "cve[0].published", "before the year"),
        (
            'references = ["https://www.us-cert',
            'references = ["www.us-cert',
            "references",
            "not an http(s) URL",
        ),
        ('vendor = ["huawei"]\n', "", "product[0].vendor", "need a vendor"),
        ('match = ["hg532"]', 'match = ["HG 532"]', "product[0].match", "normalised name"),
        ('sources = ["https://ics-cert', "sources = [] #", "malware[0].sources", "at least one"),
    ],
)
def test_other_malformed_values(tmp_path, old, new, field, words):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if new == "[tcp.70000]":
        text = text.replace("[[tcp.37215.", "[[tcp.70000.")
    error = _error(tmp_path, text)
    assert error.field == field and words in str(error), str(error)


SATORI = 'name = "Satori"\n'


def test_malware_may_say_when_it_was_reported(tmp_path):
    _, kb = _load(tmp_path, GOOD.replace(SATORI, SATORI + "reported = 2017-12-05\n"))
    (satori,) = kb.for_port("tcp", 37215).malware
    assert satori.reported.isoformat() == "2017-12-05"
    assert kb.items("tcp", 37215)[1]["published"] == "2017-12-05"
    _, undated = _load(tmp_path, GOOD)
    assert undated.for_port("tcp", 37215).malware[0].reported is None


@pytest.mark.parametrize(
    ("value", "words"),
    [('"2017-12-05"', "must be the date it was reported"), ("2027-01-01", "after the edition")],
)
def test_a_bad_reported_date(tmp_path, value, words):
    text = GOOD.replace(SATORI, SATORI + f"reported = {value}\n")
    error = _error(tmp_path, text)
    assert error.field == "malware[0].reported" and words in str(error), str(error)
    assert error.line == _line_of(text, "reported =")


def test_duplicate_cve(tmp_path):
    block = GOOD[GOOD.index("[[tcp.37215.cve]]") : GOOD.index("[udp.53]")]
    error = _error(tmp_path, GOOD.replace(block, block + block))
    assert error.field == "cve[1].id" and "listed twice" in str(error)


def test_missing_edition(tmp_path):
    error = _error(tmp_path, GOOD.replace("edition = 2026-11-28\n", ""))
    assert error.field == "edition"


def test_unreadable_file(tmp_path):
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(tmp_path / "absent.toml")


# ------------------------------------------------------------------ Japanese texts, vendor dates

PUBLISHED = "published = 2018-03-20\n"
SATORI_NOTES = 'notes = "Mirai derivative."\n'


def test_japanese_texts_and_vendor_dates_load(tmp_path):
    text = GOOD.replace(
        PUBLISHED,
        PUBLISHED + "disclosed = 2017-11-30\n"
        'advisories = ["https://www.huawei.com/en/psirt/security-notices/x", '
        '"https://jvn.jp/vu/JVNVU00000000/"]\n',
    )
    text = text.replace(
        SATORI, SATORI + SATORI_NOTES + 'notes_ja = "Mirai から派生したボットネットです。"\n'
    )
    text = text.replace(
        'name = "Huawei HG532 home gateway"\n',
        'name = "Huawei HG532 home gateway"\nname_ja = "Huawei HG532 家庭用ゲートウェイ"\n',
    )
    text = text.replace(
        'summary_ja = "DNS のポートです。"\n',
        'summary_ja = "DNS のポートです。"\nnotes = "Open resolvers."\n'
        'notes_ja = "オープンリゾルバーが悪用されます。"\n',
    )
    _, kb = _load(tmp_path, text)
    entry = kb.for_port("tcp", 37215)
    assert entry.summary_ja == "Huawei HG532 の管理サービスです。"
    (cve,) = entry.cves
    assert cve.title_ja == "Huawei HG532 のリモートコード実行の脆弱性"
    assert (cve.disclosed.isoformat(), cve.published.isoformat()) == ("2017-11-30", "2018-03-20")
    assert cve.first_public == cve.disclosed and len(cve.advisories) == 2
    assert entry.malware[0].notes_ja == "Mirai から派生したボットネットです。"
    assert entry.products[0].name_ja == "Huawei HG532 家庭用ゲートウェイ"
    dns = kb.for_port("udp", 53)
    assert (dns.notes, dns.notes_ja) == ("Open resolvers.", "オープンリゾルバーが悪用されます。")
    row = kb.items("tcp", 37215)[0]
    assert (row["title_ja"], row["published"], row["disclosed"]) == (
        cve.title_ja,
        "2018-03-20",
        "2017-11-30",
    )
    _, plain = _load(tmp_path, GOOD)  # disclosed and advisories are optional
    (cve,) = plain.for_port("tcp", 37215).cves
    assert cve.disclosed is None and cve.advisories == () and cve.first_public == cve.published


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        # summary_ja and title_ja are required, and must be Japanese
        ('summary_ja = "DNS のポートです。"\n', "", "summary_ja", "missing"),
        (
            'title_ja = "Huawei HG532 のリモートコード実行の脆弱性"\n',
            "",
            "cve[0].title_ja",
            "missing",
        ),
        ('"DNS のポートです。"', '"DNS port."', "summary_ja", "Japanese text (kana or kanji)"),
        ('"DNS のポートです。"', '""', "summary_ja", "non-empty string"),
        ('"DNS のポートです。"', "53", "summary_ja", "non-empty string"),
        (
            '"Huawei HG532 のリモートコード実行の脆弱性"',
            '"Huawei HG532 remote code execution"',
            "cve[0].title_ja",
            "Japanese text",
        ),
        (
            'name = "Huawei HG532 home gateway"\n',
            'name = "Huawei HG532 home gateway"\nname_ja = "HG532"\n',
            "product[0].name_ja",
            "Japanese text",
        ),
        (
            'summary_ja = "DNS のポートです。"\n',
            'summary_ja = "DNS のポートです。"\nnotes_ja = "Open resolvers."\n',
            "notes_ja",
            "Japanese text",
        ),
        # malware notes need their Japanese
        (SATORI, SATORI + SATORI_NOTES, "malware[0].notes_ja", "notes need their Japanese"),
        (
            SATORI,
            SATORI + SATORI_NOTES + 'notes_ja = "Mirai derivative."\n',
            "malware[0].notes_ja",
            "Japanese text",
        ),
        # disclosed is a TOML date no later than the edition
        (PUBLISHED, PUBLISHED + 'disclosed = "2017-11-30"\n', "cve[0].disclosed", "TOML date"),
        (
            PUBLISHED,
            PUBLISHED + "disclosed = 2027-01-01\n",
            "cve[0].disclosed",
            "after the edition",
        ),
        # advisories are https URLs
        (
            PUBLISHED,
            PUBLISHED + 'advisories = ["http://jvn.jp/vu/JVNVU00000000/"]\n',
            "cve[0].advisories",
            "an https URL",
        ),
        (PUBLISHED, PUBLISHED + 'advisories = "https://jvn.jp/"\n', "cve[0].advisories", "array"),
        (PUBLISHED, PUBLISHED + "advisories = []\n", "cve[0].advisories", "at least one URL"),
    ],
)
def test_bad_japanese_texts_and_vendor_dates(tmp_path, old, new, field, words):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    error = _error(tmp_path, text)
    assert error.field == field and words in str(error), str(error)
    assert f"'{field}'" in str(error) and f"entry {error.entry}:" in str(error)
    key = field.rsplit(".", 1)[-1]
    if key in new:  # the error points at the offending line
        assert error.line == _line_of(text, f"{key} =")
