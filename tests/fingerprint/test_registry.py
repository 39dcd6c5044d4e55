"""teiten.fingerprint.registry: labels and bits, and the one function turning labels into a mask."""

from __future__ import annotations

import pytest

from teiten.errors import OptionError
from teiten.fingerprint.registry import TAG_BITS, tag_labels, tag_mask


def test_tag_mask_sets_each_label_bit():
    assert tag_mask([]) == 0
    assert tag_mask(["mirai", "research"]) == 1 << TAG_BITS["mirai"] | 1 << TAG_BITS["research"]
    assert tag_labels(tag_mask(TAG_BITS)) == list(TAG_BITS)


def test_an_unknown_label_is_an_option_error_naming_the_option_and_the_labels():
    with pytest.raises(OptionError) as caught:
        tag_mask(["mirai", "miria"], "--exclude-tag")
    message = str(caught.value)
    assert message.startswith("--exclude-tag: unknown tag 'miria'")
    assert all(label in message for label in TAG_BITS)
