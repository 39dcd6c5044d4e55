"""A report names what made it — teiten's version, the data's digest, the reference data,
the settings and the command — and that command makes the same bytes again."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import replace
from datetime import date

from click.testing import CliRunner

from conftest import capture_path
from teiten import __version__
from teiten.analyze.periods import parse_period
from teiten.cli import main
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.report import compose
from teiten.report.digest import PREFIX, period_digest
from teiten.report.markdown import charts_dir
from teiten.store import Store

from .conftest import PERIOD, visible_text

EVERYTHING = parse_period("2000-01-01..2030-12-31")


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["report", *args], env=env)


def _files(out) -> dict[str, bytes]:
    """The report's bytes, and its charts' for Markdown, by name."""
    files = {out.name: out.read_bytes()}
    if out.suffix == ".md":
        files |= {p.name: p.read_bytes() for p in sorted(charts_dir(out).glob("*.svg"))}
    return files


def test_two_runs_write_the_same_bytes(report_store, tmp_path):
    """In this process and in another one with another hash seed: HTML and Markdown."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    env.pop("SOURCE_DATE_EPOCH", None)
    for lang, name in (("ja", "r.html"), ("en", "r.md")):
        first, second = tmp_path / "first" / name, tmp_path / "second" / name
        args = ["--store", str(report_store.root), "--period", PERIOD, "--lang", lang]
        result = _cli(*args, "--out", str(first))
        assert result.exit_code == 0, result.output
        command = [sys.executable, "-m", "teiten.cli", "report", *args, "--out", str(second)]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
        assert _files(first) == _files(second), (lang, name)


def test_the_method_section_names_what_made_the_report(report_store, report_data):
    report_data = replace(report_data, findings=[])
    digest = period_digest(report_store, parse_period(PERIOD))
    assert report_data.method.digest == digest and digest.startswith(PREFIX)
    for lang in ("ja", "en"):
        doc = compose(report_data, lang, "report.html")
        (method,) = [s for s in doc.sections if s.id == "method"]
        text = " ".join(b.text + " ".join(b.items) for b in method.blocks)
        assert f"teiten {__version__}" in text and digest in text
        for geo in report_data.method.geo:
            assert geo["edition"] in text
        assert re.search(r"バッチ|batches", text) is None  # no internal jargon
        assert ("既定の設定" if lang == "ja" else "none (the defaults)") in text
        command = f"--period {PERIOD} --lang {lang} --metric per-sensor --top 5 "
        assert command + "--focus-country JP --out report.html" in text


def test_the_command_in_the_report_makes_the_same_bytes(report_store, tmp_path):
    config = tmp_path / "report.toml"
    config.write_text('[organisation]\nja = "サンプルCSIRT"\n', encoding="utf-8")
    first = tmp_path / "first" / "q2.md"
    args = ["--store", str(report_store.root), "--period", PERIOD, "--lang", "ja", "--top", "3"]
    result = _cli(*args, "--config", str(config), "--generated", "2019-07-15", "--out", str(first))
    assert result.exit_code == 0, result.output
    text = first.read_text(encoding="utf-8")
    assert "2019年7月15日作成（teiten" in text
    line = re.search(r"本レポートを再作成するコマンド.*?: (teiten report .*)", text)
    assert line, text
    words = shlex.split(line[1])
    assert words[:2] == ["teiten", "report"]
    assert "--generated" in words and "2019-07-15" in words and "report.toml" in words
    again = tmp_path / "second"
    again.mkdir()
    (again / "report.toml").write_bytes(config.read_bytes())
    words = words[2:]
    words[words.index("STORE")] = str(report_store.root)
    cwd = os.getcwd()
    try:
        os.chdir(again)  # the command names the config and the output by their file names
        result = CliRunner().invoke(main, ["report", *words])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert _files(first) == _files(again / "q2.md")


def test_source_date_epoch_dates_the_report(report_store, tmp_path):
    out = tmp_path / "r.html"
    args = ["--store", str(report_store.root), "--period", PERIOD, "--lang", "en"]
    result = _cli(*args, "--out", str(out), env={"SOURCE_DATE_EPOCH": "1563148800"})
    assert result.exit_code == 0, result.output
    text = visible_text(out.read_text(encoding="utf-8"))
    assert "July 15, 2019; made with teiten" in text and "--generated 2019-07-15" in text
    bad = _cli(*args, "--out", str(out), env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert bad.exit_code == 2 and "SOURCE_DATE_EPOCH must be whole seconds" in bad.output


def test_without_a_date_the_report_says_none(report_data):
    report_data = replace(report_data, findings=[])
    assert report_data.generated is None
    assert compose(report_data, "ja").generated == f"teiten {__version__}で作成"
    dated = replace(report_data, generated=date(2019, 7, 15))
    assert compose(dated, "en").generated == f"July 15, 2019; made with teiten {__version__}"


def _store(root, *captures: str) -> Store:
    store = Store(root)
    for name in captures:
        ingest([capture_path(name)], store, open_geo(), sensor="lab")
    return store


def test_the_digest_is_the_data_not_the_files(tmp_path):
    """The same packets (microsecond and nanosecond pcap) in two stores: one digest; another
    capture, another sensor label, or a period without them: another."""
    micro = _store(tmp_path / "a", "libtrace_100_packets.pcap")
    nano = _store(tmp_path / "b", "libtrace_100_packetsns.pcap")
    digest = period_digest(micro, EVERYTHING)
    assert digest == period_digest(nano, EVERYTHING) == period_digest(micro, EVERYTHING)
    more = _store(
        tmp_path / "c", "libtrace_100_packets.pcap", "evilfingers_nmap_IP_PROTOCOL_SCAN.pcap"
    )
    assert period_digest(more, EVERYTHING) != digest
    other = Store(tmp_path / "d")
    ingest([capture_path("libtrace_100_packets.pcap")], other, open_geo(), sensor="other")
    assert period_digest(other, EVERYTHING) != digest
    empty = period_digest(micro, parse_period("2001-01-01"))
    assert empty != digest and empty == period_digest(more, parse_period("2001-01-01"))
