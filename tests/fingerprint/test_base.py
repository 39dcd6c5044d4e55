"""The registry: stable bits, one fingerprint per label, documented rules."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import teiten.fingerprint as package
from conftest import ROOT
from decode.builders import make_batch
from teiten.decode import decode_batch
from teiten.fingerprint import (
    FINGERPRINTS,
    TAG_BITS,
    Fingerprint,
    ResearchNetworks,
    TagContext,
    register,
    tag_packets,
)

from ._packets import decoded


def test_bits_are_part_of_the_store_format():
    # A label keeps its bit forever; new labels take new bits. Extend, never edit.
    assert TAG_BITS == {
        "mirai": 0,
        "zmap": 1,
        "masscan": 2,
        "bs-synack": 8,
        "bs-rst": 9,
        "bs-icmp-echo-reply": 10,
        "bs-icmp-unreachable": 11,
        "bs-icmp-time-exceeded": 12,
        "bs-icmp-other-error": 13,
        "bs-icmp-other-reply": 14,
        "src-eq-dst": 16,
        "port-zero": 17,
        "ip-reserved-flag": 18,
        "abnormal-tcp-flags": 19,
        "research": 24,
    }
    assert len(set(TAG_BITS.values())) == len(TAG_BITS) and max(TAG_BITS.values()) < 32


def test_every_label_has_exactly_one_fingerprint():
    labels = [fp.label for fp in FINGERPRINTS]
    assert sorted(labels) == sorted(TAG_BITS)
    with pytest.raises(ValueError, match="registered twice"):
        register(FINGERPRINTS[0])
    with pytest.raises(ValueError, match="no bit"):
        Fingerprint("nmap", FINGERPRINTS[0].match, "not in the registry")


def test_every_module_cites_its_rule():
    modules = [m.name for m in pkgutil.iter_modules(package.__path__)]
    rules = set(modules) - {"base", "registry", "headers"}
    assert rules == {"mirai", "zmap", "masscan", "backscatter", "spoofing", "tcpflags", "research"}
    for name in rules:
        doc = importlib.import_module(f"teiten.fingerprint.{name}").__doc__ or ""
        assert len(doc) > 400, f"{name}: the docstring must say where the rule comes from"


def test_docs_describe_every_tag():
    docs = (ROOT / "docs" / "fingerprints.md").read_text()
    for label in TAG_BITS:
        assert f"`{label}`" in docs, f"docs/fingerprints.md does not describe {label}"


def test_tag_packets_on_nothing():
    empty = decoded([])
    assert tag_packets(empty).dtype == np.uint32 and len(tag_packets(empty)) == 0


@given(st.lists(st.binary(max_size=120), min_size=1, max_size=20))
def test_arbitrary_frames_never_crash_and_skipped_rows_carry_no_tags(frames):
    d = decode_batch(make_batch(frames))
    tags = tag_packets(d, TagContext(research=ResearchNetworks.parse("0.0.0.0/0\n::/0\n")))
    assert tags.dtype == np.uint32 and len(tags) == len(frames)
    assert not tags[d.reason != 0].any()
    research = 1 << TAG_BITS["research"]
    assert ((tags & research) != 0).tolist() == (d.reason == 0).tolist()  # everything listed
