"""Delivering the outbox to a real SMTP server on loopback (aiosmtpd), on both tiers.

The guarantee proven here: at-least-once with an idempotent Message-ID. A crash between
sending and marking resends the message with the same Message-ID; nothing is lost."""

from __future__ import annotations

import asyncio
import email
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from bson import ObjectId

from ownership.mailer import SmtpSettings, deliver_pending, smtp_send
from ownership.tasks import periodic, run_once
from resolvers.ids import decode
from store import notifications as outbox
from store.db import Store
from store.notifications import NotificationKind, NotificationRecord
from store.people import PersonRecord
from store.records import now
from tests.helpers import create_app, gql, make_person


@dataclass
class Inbox:
    """What the loopback SMTP server accepted; ``reject`` refuses the next N messages."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reject: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject > 0:
            self.reject -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the openssl command line makes it)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", key, "-out", cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp(certificate: tuple[str, str]) -> Iterator[tuple[Inbox, SmtpSettings]]:
    """An SMTP server on loopback requiring STARTTLS and a login, like a real relay."""
    cert, key = certificate
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username="mailer",
        password="s3cret",
        sender="Mendix <no-reply@mendix.example>",
        timeout=10,
        max_attempts=3,
        ca_file=cert,
    )
    try:
        yield inbox, settings
    finally:
        controller.stop()


@pytest.fixture
async def ann(db: Any) -> PersonRecord:
    return await make_person(db, "ann@acme.example", "Ann", "ann")


async def queue(db: Any, person: PersonRecord, n: int = 1) -> list[NotificationRecord]:
    made = []
    for index in range(n):
        record = await outbox.enqueue(
            db,
            kind=NotificationKind.MAINTENANCE,
            dedupe_key=f"test:{index}",
            recipient_id=person.id,
            to_email=person.email,
            subject=f"Subject {index}",
            body=f"Body {index}\nwith two lines",
        )
        assert record is not None
        made.append(record)
    return made


async def stored(db: Any, record: NotificationRecord) -> dict[str, Any]:
    doc = await db["notifications"].find_one({"_id": record.id})
    assert doc is not None
    return doc


async def test_delivers_over_smtp_and_marks_sent(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    (record,) = await queue(db, ann)
    report = await deliver_pending(db, settings)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (message,) = inbox.messages
    assert message["To"] == "ann@acme.example"
    assert message["From"] == "Mendix <no-reply@mendix.example>"
    assert message["Subject"] == "Subject 0"
    assert message["Message-ID"] == record.message_id
    assert message["X-Notification-Kind"] == "MAINTENANCE"
    text = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert text.strip() == "Body 0\nwith two lines"
    assert inbox.envelopes == [("no-reply@mendix.example", ["ann@acme.example"])]
    doc = await stored(db, record)
    assert doc["status"] == "SENT" and doc["attempts"] == 1 and doc["sent_at"] is not None
    assert (await deliver_pending(db, settings)).sent == 0  # nothing left
    assert len(inbox.messages) == 1


class Crash(Exception):
    pass


async def test_crash_between_send_and_mark_resends_with_the_same_message_id(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    (record,) = await queue(db, ann)

    async def crash(message: NotificationRecord) -> None:
        raise Crash()

    with pytest.raises(Crash):
        await deliver_pending(db, settings, after_send=crash)
    assert len(inbox.messages) == 1  # the server has it; the outbox doesn't know
    assert (await stored(db, record))["status"] == "SENDING"
    # While the crashed sender's lease runs, nobody else sends it
    assert (await deliver_pending(db, settings)).sent == 0
    # After the lease: sent again, same Message-ID; marked once
    later = now() + settings.lease + timedelta(seconds=1)
    assert (await deliver_pending(db, settings, at=later)).sent == 1
    assert inbox.message_ids() == [record.message_id, record.message_id]
    assert len(set(inbox.message_ids())) == 1  # one message for a receiver deduplicating
    doc = await stored(db, record)
    assert doc["status"] == "SENT" and doc["attempts"] == 2


async def test_a_sender_whose_lease_ran_out_cannot_mark(db: Any, ann: PersonRecord) -> None:
    await queue(db, ann)
    lease = timedelta(minutes=5)
    first = await outbox.claim_next(db, lease=lease)
    assert first is not None
    assert await outbox.claim_next(db, lease=lease) is None  # claimed
    second = await outbox.claim_next(db, lease=lease, at=now() + lease + timedelta(seconds=1))
    assert second is not None and second.claim != first.claim
    assert await outbox.mark_sent(db, first) is False
    assert await outbox.mark_sent(db, second) is True


async def test_temporary_failures_are_retried_with_back_off(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    inbox.reject = 1
    (record,) = await queue(db, ann)
    start = now()
    report = await deliver_pending(db, settings, at=start)
    assert (report.sent, report.retried) == (0, 1)
    doc = await stored(db, record)
    assert doc["status"] == "PENDING" and "451" in doc["last_error"]
    assert (await deliver_pending(db, settings, at=start + timedelta(seconds=29))).sent == 0
    assert (await deliver_pending(db, settings, at=start + timedelta(seconds=31))).sent == 1
    assert inbox.message_ids() == [record.message_id]
    assert settings.retry_delay(1) == timedelta(seconds=30)
    assert settings.retry_delay(3) == timedelta(minutes=2)
    assert settings.retry_delay(30) == timedelta(hours=1)


async def test_gives_up_after_max_attempts_and_keeps_the_error(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    inbox.reject = 10
    (record,) = await queue(db, ann)
    at = now()
    for _ in range(settings.max_attempts):
        await deliver_pending(db, settings, at=at)
        at += timedelta(hours=2)
    doc = await stored(db, record)
    assert doc["status"] == "FAILED" and doc["attempts"] == settings.max_attempts
    assert (await deliver_pending(db, settings, at=at)).sent == 0
    assert inbox.messages == []


async def test_missing_credentials_and_an_unreachable_server_are_retried(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    (record,) = await queue(db, ann)
    anonymous = SmtpSettings(**{**settings.__dict__, "username": None, "password": None})
    assert (await deliver_pending(db, anonymous)).retried == 1
    assert "530" in (await stored(db, record))["last_error"]  # the relay wants a login
    down = SmtpSettings(**{**settings.__dict__, "port": _free_port()})
    assert (await deliver_pending(db, down, at=now() + timedelta(minutes=1))).retried == 1
    assert (await deliver_pending(db, settings, at=now() + timedelta(hours=1))).sent == 1
    assert inbox.message_ids() == [record.message_id]


async def test_racing_senders_send_each_message_once(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    records = await queue(db, ann, 5)
    reports = await asyncio.gather(*(deliver_pending(db, settings) for _ in range(3)))
    assert sum(report.sent for report in reports) == 5
    assert sorted(inbox.message_ids()) == sorted(record.message_id for record in records)


async def test_without_smtp_mail_stays_in_the_outbox(db: Any, ann: PersonRecord) -> None:
    (record,) = await queue(db, ann)
    report = await run_once(db, None)
    assert report.delivery is None
    assert (await stored(db, record))["status"] == "PENDING"


async def test_the_periodic_task_queues_and_delivers(
    store: Store, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    (record,) = await queue(store.db, ann)
    stop = await periodic(settings, interval=0.01)(store)
    try:
        for _ in range(500):  # bounded wait for the first pass, not a timing assertion
            if inbox.messages:
                break
            await asyncio.sleep(0.01)
    finally:
        await stop()
    assert inbox.message_ids() == [record.message_id]
    assert (await stored(store.db, record))["status"] == "SENT"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)
    assert SmtpSettings.from_env() is None
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("SMTP_SECURITY", "tls")
    monkeypatch.setenv("SMTP_USERNAME", "u")
    monkeypatch.setenv("SMTP_PASSWORD", "p")
    settings = SmtpSettings.from_env()
    assert settings is not None
    assert (settings.host, settings.port, settings.security) == ("mail.example.com", 465, "tls")
    assert (settings.username, settings.password) == ("u", "p")
    monkeypatch.setenv("SMTP_SECURITY", "starttls")
    monkeypatch.setenv("SMTP_PORT", "2525")
    settings = SmtpSettings.from_env()
    assert settings is not None and (settings.port, settings.security) == (2525, "starttls")
    monkeypatch.setenv("SMTP_SECURITY", "maybe")
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        SmtpSettings.from_env()


ADD_LICENSE = """
mutation ($input: AddLicenseInput!) { addLicense(input: $input) { userErrors { code } } }"""


async def licensed_app(db: Any, support: PersonRecord, contact: PersonRecord, name: str) -> str:
    """An On-Premises app (via the API) whose license expires in 20 days: one renewal notice."""
    app = await create_app(db, support, contact, "ON_PREMISES", name.lower())
    input = {
        "appId": app["id"],
        "licenseId": "L-1",
        "plan": "Standard",
        "namedUsers": 10,
        "concurrentUsers": 5,
        "startsAt": (now() - timedelta(days=300)).isoformat(),
        "expiresAt": (now() + timedelta(days=20)).isoformat(),
    }
    data = await gql(db, support, ADD_LICENSE, {"input": input})
    assert data["addLicense"]["userErrors"] == []
    return str(app["id"])


async def test_a_stored_name_with_a_line_break_fails_its_message_alone(
    db: Any, support: PersonRecord, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    """A name stored before inputs refused line breaks makes its notice's Subject unsafe: that
    message backs off and ends FAILED with the error kept; the passes go on, others go out."""
    inbox, settings = smtp
    await licensed_app(db, support, ann, "Good")
    bad = await licensed_app(db, support, ann, "Bad")
    legacy = "Legacy\r\nBcc: everyone@acme.example"
    await db["apps"].update_one({"_id": decode(bad, "App")}, {"$set": {"name": legacy}})
    at = now()
    first = await run_once(db, settings)  # queues both notices; sends the good one
    assert first.notices.renewal_notices == 2
    assert first.delivery is not None
    assert (first.delivery.sent, first.delivery.retried, first.delivery.failed) == (1, 1, 0)
    (message,) = inbox.messages
    assert message["Subject"] == "App good: license L-1 expires within 30 days"
    (stuck,) = await db["notifications"].find({"subject": {"$regex": "^Legacy"}}).to_list(None)
    assert stuck["status"] == "PENDING" and stuck["attempts"] == 1
    assert "UnsafeHeader" in stuck["last_error"] and "Subject" in stuck["last_error"]
    # meanwhile other mail still goes out, however often the pass runs
    (other,) = await queue(db, ann)
    for _ in range(settings.max_attempts - 1):
        at += timedelta(hours=2)
        report = await deliver_pending(db, settings, at=at)
        assert report.sent + report.retried + report.failed >= 1
    doc = await db["notifications"].find_one({"_id": stuck["_id"]})
    assert doc["status"] == "FAILED" and doc["attempts"] == settings.max_attempts
    assert "UnsafeHeader" in doc["last_error"]
    assert doc["lease_until"] is None  # not SENDING, never re-claimed
    assert (await deliver_pending(db, settings, at=at + timedelta(days=1))).failed == 0
    assert sorted(str(m["Subject"]) for m in inbox.messages) == [
        "App good: license L-1 expires within 30 days",
        "Subject 0",
    ]
    assert other.message_id in inbox.message_ids()
    assert all("everyone@acme.example" not in str(m) for m in inbox.messages)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Approved: Add\nBcc: x@acme.example"),
        ("subject", "Bell\x07"),
        ("to_email", "ann@acme.example\r\nBcc: x@acme.example"),
    ],
)
async def test_an_unsafe_header_is_never_sent(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings], field: str, value: str
) -> None:
    inbox, settings = smtp
    (record,) = await queue(db, ann)
    await db["notifications"].update_one({"_id": record.id}, {"$set": {field: value}})
    report = await deliver_pending(db, settings)
    assert (report.sent, report.retried) == (0, 1)
    assert inbox.messages == []
    assert "UnsafeHeader" in (await stored(db, record))["last_error"]


async def test_any_error_sending_one_message_fails_it_alone(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    records = await queue(db, ann, 3)
    broken = records[1].message_id

    async def send(settings: SmtpSettings, email: EmailMessage) -> None:
        if email["Message-ID"] == broken:
            raise RuntimeError("a bug in the sender")
        await smtp_send(settings, email)

    report = await deliver_pending(db, settings, send=send)
    assert (report.sent, report.retried) == (2, 1)
    assert sorted(inbox.message_ids()) == sorted([records[0].message_id, records[2].message_id])
    doc = await stored(db, records[1])
    assert doc["status"] == "PENDING" and doc["last_error"] == "RuntimeError: a bug in the sender"


async def test_an_unreadable_stored_message_is_failed_not_jammed(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    broken = ObjectId()
    await db["notifications"].insert_one(
        {"_id": broken, "status": "PENDING", "next_attempt_at": now() - timedelta(days=1)}
    )
    (record,) = await queue(db, ann)
    report = await deliver_pending(db, settings)
    assert report.sent == 1 and inbox.message_ids() == [record.message_id]
    doc = await db["notifications"].find_one({"_id": broken})
    assert doc["status"] == "FAILED" and doc["last_error"].startswith("Unreadable message")
    assert (await deliver_pending(db, settings, at=now() + timedelta(hours=2))).sent == 0


async def test_racing_senders_fail_a_bad_message_once_and_send_the_rest(
    db: Any, ann: PersonRecord, smtp: tuple[Inbox, SmtpSettings]
) -> None:
    inbox, settings = smtp
    records = await queue(db, ann, 5)
    bad = records[2]
    await db["notifications"].update_one({"_id": bad.id}, {"$set": {"subject": "Bad\nBcc: x"}})
    reports = await asyncio.gather(*(deliver_pending(db, settings) for _ in range(3)))
    assert sum(report.sent for report in reports) == 4
    assert sum(report.retried for report in reports) == 1
    assert sorted(inbox.message_ids()) == sorted(r.message_id for r in records if r is not bad)
    doc = await stored(db, bad)
    assert doc["status"] == "PENDING" and doc["attempts"] == 1
