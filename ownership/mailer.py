"""Delivering the outbox over SMTP: claim, send, mark; retries with exponential back-off.

Guarantee: **at-least-once** delivery with an idempotent ``Message-ID``. A message is claimed
(PENDING -> SENDING, lease + claim token), sent, then marked SENT under the same claim. A
crash after the SMTP server accepted the message and before the mark leaves it SENDING; when
the lease runs out another sender claims and sends it again with the *same* ``Message-ID``
(derived from the outbox ``_id``), so receivers and mail stores that de-duplicate by
Message-ID show it once. No message is lost: it leaves the queue only by being marked SENT, or
FAILED after ``max_attempts`` (kept with its last error, visible through the API). Exactly-once
across SMTP is not achievable (the server's acceptance and our mark can't be one atomic step).

One bad message never jams the outbox: any error building or sending it (an unsafe header
stored before inputs refused control characters, a refusal by the server, a bug) sends that
message alone to back-off and, after ``max_attempts``, to FAILED with the error kept; the pass
goes on with the others.

Without SMTP settings (``SMTP_HOST`` unset) nothing is sent: mail stays PENDING in the outbox
and the API shows it (``notifications``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from resolvers.inputs import control_characters
from store import notifications as outbox
from store.db import Database
from store.notifications import NotificationRecord
from store.records import now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # "starttls", "tls" (implicit, port 465) or "none"
    username: str | None = None
    password: str | None = None
    sender: str = "Mendix <no-reply@mendix.example>"
    ca_file: str | None = None  # extra CA to trust (a private relay's certificate)
    timeout: float = 30.0
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """``SMTP_HOST`` (unset: no sending), ``SMTP_PORT``, ``SMTP_SECURITY``
        (starttls|tls|none), ``SMTP_USERNAME``, ``SMTP_PASSWORD``, ``SMTP_FROM``,
        ``SMTP_CA_FILE``."""
        host = os.environ.get("SMTP_HOST")
        if not host:
            return None
        security = os.environ.get("SMTP_SECURITY", "starttls").lower()
        if security not in ("starttls", "tls", "none"):
            raise ValueError("SMTP_SECURITY must be starttls, tls or none")
        default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
        return cls(
            host=host,
            port=int(os.environ.get("SMTP_PORT", default_port)),
            security=security,
            username=os.environ.get("SMTP_USERNAME") or None,
            password=os.environ.get("SMTP_PASSWORD") or None,
            sender=os.environ.get("SMTP_FROM", cls.sender),
            ca_file=os.environ.get("SMTP_CA_FILE") or None,
        )

    def retry_delay(self, attempts: int) -> timedelta:
        """30s, 1m, 2m, 4m ... capped at ``max_backoff``."""
        return min(self.backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)


class UnsafeHeader(ValueError):
    """A header value holds a line break or another control character (stored before inputs
    refused them): the message is not sent, it fails like any other error."""


def build_message(settings: SmtpSettings, message: NotificationRecord) -> EmailMessage:
    """The email for an outbox message; UnsafeHeader when a header would carry a control
    character (no header injection, whatever is stored)."""
    headers = {
        "From": settings.sender,
        "To": message.to_email,
        "Subject": message.subject,
        "Message-ID": message.message_id,
        "Date": format_datetime(message.created_at),
        "X-Notification-Kind": message.kind.value,
    }
    email = EmailMessage()
    for name, value in headers.items():
        if control_characters(value):
            raise UnsafeHeader(f"the {name} header would contain a control character: {value!r}")
        email[name] = value
    email.set_content(message.body)
    return email


def _send_blocking(settings: SmtpSettings, email: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(email)


async def smtp_send(settings: SmtpSettings, email: EmailMessage) -> None:
    """Send one message with the standard library's client, off the event loop."""
    await asyncio.to_thread(_send_blocking, settings, email)


Send = Callable[[SmtpSettings, EmailMessage], Awaitable[None]]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


async def deliver_pending(
    db: Database,
    settings: SmtpSettings,
    *,
    send: Send = smtp_send,
    limit: int = 100,
    at: datetime | None = None,
    after_send: Callable[[NotificationRecord], Awaitable[None]] | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due messages. ``after_send`` runs between sending and marking
    (tests use it to crash exactly there)."""
    report = DeliveryReport()
    for _ in range(limit):
        moment = at or now()
        message = await outbox.claim_next(db, lease=settings.lease, at=moment)
        if message is None:
            break
        try:
            await send(settings, build_message(settings, message))
        except Exception as error:  # whatever it is, this message alone fails (and retries)
            final = message.attempts >= settings.max_attempts
            retry_at = None if final else moment + settings.retry_delay(message.attempts)
            await outbox.mark_failed(
                db, message, f"{type(error).__name__}: {error}", retry_at=retry_at
            )
            if final:
                report.failed += 1
                log.error(
                    "Giving up on %s after %d attempts: %s", message.id, message.attempts, error
                )
            else:
                report.retried += 1
                log.warning(
                    "Sending %s failed (attempt %d): %s", message.id, message.attempts, error
                )
            continue
        if after_send is not None:
            await after_send(message)
        if await outbox.mark_sent(db, message):
            report.sent += 1
    return report
