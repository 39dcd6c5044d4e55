"""Sending the feeds built: each to its recipient once, recorded in the sent-log.

For every recipient of the configuration, oldest period first, each kept feed is:

* skipped when the sent-log has it ``sent`` (same recipient, period and digest: a
  rebuilt period with the same findings is the same feed);
* skipped when it has no row and the recipient does not ask for empty feeds;
* sent when no attempt can have delivered it (none made, or each stopped before its
  commit point, or the receiver answered that it did not take it);
* when an earlier attempt may have delivered it (interrupted past the commit point): a
  directory is looked at (it can tell); otherwise ``on_uncertain`` decides — ``resend``
  (the default) sends it again with the same identity (Message-ID, Idempotency-Key),
  ``hold`` leaves it for the operator (``--resend-uncertain``).

An attempt that fails is retried ``retries`` times, waiting ``backoff_seconds`` × 2ⁿ
(at most 5 minutes) between them, unless the receiver refused it for good. A dry run
reads the sent-log, writes nothing and connects to nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from teiten.errors import DeliveryError
from teiten.notify.archive import Archive
from teiten.notify.config import NotifyConfig, Recipient
from teiten.notify.deliver import Transport, transport_for
from teiten.notify.feeds import Feed
from teiten.notify.sentlog import FeedKey, SentLog
from teiten.store import Store

__all__ = ["ACTIONS", "MAX_WAIT", "Outcome", "send_feeds"]

MAX_WAIT = 300.0  # seconds between two attempts, at most
ACTIONS = {
    "sent": "delivered now",
    "already-sent": "delivered before: not sent again",
    "found-delivered": "an interrupted attempt had delivered it: recorded as sent",
    "empty": "no rows (send_empty = false): not sent",
    "held": "an earlier attempt may have delivered it: held (on_uncertain = hold)",
    "failed": "not delivered",
    "would-send": "dry run: would be sent",
    "would-resend": "dry run: would be sent again (an earlier attempt may have delivered it)",
}


@dataclass(frozen=True)
class Outcome:
    """What became of one feed."""

    recipient: str
    period: str
    digest: str
    transport: str
    identity: str
    action: str  # a key of ACTIONS
    rows: int
    attempts: int = 0  # attempts made by this run
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def send_feeds(
    store: Store,
    config: NotifyConfig,
    *,
    dry_run: bool = False,
    resend_uncertain: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send every feed of ``config``'s recipients kept in ``store`` that is due."""
    archive = Archive(store.root)
    outcomes: list[Outcome] = []
    with SentLog(store.root, read_only=dry_run) as log:
        if dry_run:
            for recipient in config.recipients:
                hold = _holds(recipient, resend_uncertain)
                outcomes += [
                    _due(log, recipient, s.feed, hold) for s in archive.feeds(recipient.name)
                ]
            return outcomes
        with log.lock():
            for recipient in config.recipients:
                sender = _Sender(log, recipient, resend_uncertain, sleep)
                outcomes += [sender.send(s.feed) for s in archive.feeds(recipient.name)]
    return outcomes


def _key(feed: Feed) -> FeedKey:
    return FeedKey(feed.recipient, feed.period_label, feed.digest)


def _holds(recipient: Recipient, resend_uncertain: bool) -> bool:
    """Whether a feed that may have arrived is left for the operator."""
    return recipient.delivery.on_uncertain == "hold" and not resend_uncertain


def _due(log: SentLog, recipient: Recipient, feed: Feed, hold: bool) -> Outcome:
    """What is due for ``feed`` (a dry run's answer; ``_Sender`` acts on it)."""
    transport = transport_for(recipient)
    entry = log.get(_key(feed))
    if entry is not None and entry.state == "sent":
        return _outcome(transport, feed, "already-sent", entry.detail or "")
    if not feed.rows and not recipient.send_empty:
        return _outcome(transport, feed, "empty")
    if entry is not None and entry.uncertain:
        arrived = transport.delivered(feed)
        if arrived:
            return _outcome(transport, feed, "found-delivered")
        if arrived is None:
            return _outcome(transport, feed, "held" if hold else "would-resend", entry.detail or "")
    return _outcome(transport, feed, "would-send")


def _outcome(
    transport: Transport, feed: Feed, action: str, detail: str = "", attempts: int = 0
) -> Outcome:
    return Outcome(
        feed.recipient,
        feed.period_label,
        feed.digest,
        transport.kind,
        transport.identity(feed),
        action,
        len(feed.rows),
        attempts,
        detail,
    )


class _Sender:
    """Sends one recipient's due feeds, recording each step in the sent-log."""

    def __init__(
        self,
        log: SentLog,
        recipient: Recipient,
        resend_uncertain: bool,
        sleep: Callable[[float], None],
    ) -> None:
        self.log, self.recipient = log, recipient
        self.transport = transport_for(recipient)
        self.hold = _holds(recipient, resend_uncertain)
        self.sleep = sleep

    def send(self, feed: Feed) -> Outcome:
        due = _due(self.log, self.recipient, feed, self.hold)
        if due.action == "found-delivered":
            self.log.sent(_key(feed), "an interrupted attempt had delivered it")
            return due
        if due.action not in ("would-send", "would-resend"):
            return due
        return self._attempts(feed, resent=due.action == "would-resend")

    def _attempts(self, feed: Feed, *, resent: bool) -> Outcome:
        key, d = _key(feed), self.recipient.delivery
        note = "sent again: an earlier attempt may have delivered it; " if resent else ""
        for attempt in range(d.retries + 1):
            self.log.begin(key, self.transport.kind, self.transport.identity(feed))
            try:
                answer = self.transport.deliver(feed, lambda: self.log.committing(key))
            except DeliveryError as exc:
                self.log.failed(key, str(exc), maybe_delivered=exc.maybe_delivered)
                if exc.maybe_delivered and self.hold:
                    return _outcome(self.transport, feed, "held", str(exc), attempt + 1)
                if exc.permanent or attempt == d.retries:
                    return _outcome(self.transport, feed, "failed", str(exc), attempt + 1)
                note += f"attempt {attempt + 1} failed ({exc}); "
                self.sleep(min(MAX_WAIT, d.backoff_seconds * 2**attempt))
                continue
            self.log.sent(key, note + answer)
            return _outcome(self.transport, feed, "sent", note + answer, attempt + 1)
        raise AssertionError("unreachable: the last attempt returns")
