"""Infected-host feeds for network owners: who gets which findings, built and sent once.

``notify.toml`` (:mod:`~teiten.notify.config`) names the recipients: the networks each
is told about (ASNs, CIDRs, countries), the finding kinds it receives
(:mod:`~teiten.notify.findings`) and how its feeds travel. :func:`build_feeds` writes a
period's feed per recipient into the store (:mod:`~teiten.notify.feeds`, kept by
:mod:`~teiten.notify.archive`); :func:`send_feeds` delivers each feed once
(:mod:`~teiten.notify.send`, :mod:`~teiten.notify.deliver`), recorded in the sent-log
(:mod:`~teiten.notify.sentlog`). See ``docs/notify.md``.
"""

from teiten.notify.build import BuildReport, BuiltFeed, build_feeds
from teiten.notify.config import NotifyConfig, Recipient, load_config
from teiten.notify.feeds import COLUMNS, Feed
from teiten.notify.findings import KINDS, NOT_OFFERED, Kind, Thresholds, find
from teiten.notify.send import Outcome, send_feeds

__all__ = [
    "COLUMNS",
    "KINDS",
    "NOT_OFFERED",
    "BuildReport",
    "BuiltFeed",
    "Feed",
    "Kind",
    "NotifyConfig",
    "Outcome",
    "Recipient",
    "Thresholds",
    "build_feeds",
    "find",
    "load_config",
    "send_feeds",
]
