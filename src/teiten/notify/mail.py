"""A feed as an e-mail: a short summary, the CSV and the JSON attached.

The message is a function of the feed alone: its ``Message-ID`` and MIME boundary are
derived from the feed's digest and its ``Date`` is when the feed was generated, so a
message sent again
(after an attempt that may have arrived) is the same message, byte for byte, and a
mailbox or ticket system can tell the duplicate by its ``Message-ID``.
"""

from __future__ import annotations

import email.policy
import re
from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from teiten.notify.feeds import Feed, render_csv, render_json

__all__ = ["feed_message", "message_id", "smtp_data"]

# Header lines unfolded up to RFC 5322's limit: a Message-ID stays on its own line.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def message_id(feed: Feed, sender: str) -> str:
    """``<teiten-feed.<first 40 hex digits of the digest>@<the sender's domain>>``."""
    domain = sender.rpartition("@")[2] or "teiten.invalid"
    return f"<teiten-feed.{feed.digest.partition(':')[2][:40]}@{domain}>"


def feed_message(feed: Feed, sender: str, to: tuple[str, ...]) -> EmailMessage:
    """The e-mail carrying ``feed`` from ``sender`` to ``to``."""
    h = feed.header
    label = h["period"]["label"]
    hosts = len({r["ip"] for r in feed.rows if r["status"] != "gone"})
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = (
        f"[{h['tlp']}] teiten darknet feed for {feed.recipient}, {label}: {hosts} hosts"
    )
    message["Date"] = format_datetime(datetime.fromisoformat(h["generated_at"]))
    message["Message-ID"] = message_id(feed, sender)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["X-Teiten-Feed"] = f"{feed.recipient} {label} {feed.digest}"
    message.set_content(summary(feed))
    name = f"teiten-{feed.recipient}-{label}"
    message.add_attachment(render_csv(feed), maintype="text", subtype="csv", filename=f"{name}.csv")
    message.add_attachment(
        render_json(feed), maintype="application", subtype="json", filename=f"{name}.json"
    )
    # Not random: the same feed makes the same bytes ("_" is in no base64 part).
    message.set_boundary(f"=_teiten_{feed.digest.partition(':')[2][:32]}")
    return message


def summary(feed: Feed) -> str:
    """The message's text: what the feed holds, by finding kind and status."""
    h = feed.header
    p = h["period"]
    counts = h["counts"]
    lines = [
        f"{h['tlp']}: share as the Traffic Light Protocol 2.0 says (https://www.first.org/tlp/).",
        "",
        f"teiten darknet feed for {feed.recipient}, period {p['label']} ({p['start']} .. "
        f"{p['end']}, UTC).",
        f"{len(feed.rows)} rows: {counts['new']} new, {counts['ongoing']} ongoing, "
        f"{counts['gone']} gone"
        + (f" (against the feed of {h['previous_period']})." if h["previous_period"] else "."),
        "",
    ]
    by_kind = Counter((r["type"], r["status"]) for r in feed.rows)
    for finding in h["findings"]:
        kind = finding["type"]
        parts = [f"{by_kind[(kind, s)]} {s}" for s in ("new", "ongoing", "gone")]
        lines.append(f"  {kind} (severity {finding['severity']}): {', '.join(parts)}")
    lines += [
        "",
        f"Every host listed sent unsolicited packets to {h['destination']}: addresses nobody",
        "uses, so nothing there asked for them. The attached CSV (Shadowserver's column names",
        "where one applies) and JSON hold one row per host, finding and protocol, with when",
        "it was first and last seen in the period.",
    ]
    who = ", ".join(v for v in h["publisher"].values() if v)
    if who:
        lines += ["", f"Published by {who}."]
    return "\n".join(lines) + "\n"


def smtp_data(message: EmailMessage) -> bytes:
    """The message as DATA sends it, without the final ``.`` line: CRLF line ends, a
    leading dot doubled (RFC 5321 4.5.2), ending with CRLF."""
    data = message.as_bytes(policy=_POLICY)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
