"""The sentences findings are told in."""

from __future__ import annotations

from teiten.analyze.phenomena.texts import scans


def test_the_scan_sentence_counts_one_source_and_one_event_in_the_singular():
    one = {"events": 14, "sources": 1, "share": 0.003}
    assert scans(one, "en") == "14 scan events from 1 source hold 0.3% of these packets."
    single = {"events": 1, "sources": 1, "share": 0.5}
    assert scans(single, "en") == "1 scan event from 1 source holds 50.0% of these packets."
    many = {"events": 682, "sources": 200, "share": 0.186}
    assert scans(many, "en") == "682 scan events from 200 sources hold 18.6% of these packets."
    assert scans({"events": 0}, "en") == ""
