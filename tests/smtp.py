"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, at once or slowly."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "kb-mailer"
PASSWORD = "mail-password-for-tests"


@dataclass
class Mailbox:
    """What the server has received, as parsed messages; each takes `delay` seconds to accept."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        """aiosmtpd hook: keep the message (after `delay`, as a slow server would)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until `count` messages have arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.messages) >= count, f"expected {count} messages, got {len(self.messages)}"
        return self.messages

    def links_in(self, message: EmailMessage) -> list[str]:
        """Every http(s) link in a message's text."""
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        return re.findall(r"https?://\S+", body.get_content())


def _authenticator(mailbox: Mailbox):
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == USERNAME and auth_data.password.decode() == PASSWORD
        if ok:
            mailbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    return authenticate


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(tls_context: ssl.SSLContext | None = None, *, delay: float = 0.0) -> Iterator[tuple[Mailbox, int]]:
    """Run an SMTP server on 127.0.0.1 that requires a login; yields the mailbox and port.

    With `tls_context` the server offers STARTTLS and refuses mail and logins without it;
    with `delay` it takes that many seconds over each message before accepting it.
    """
    mailbox = Mailbox(delay=delay)
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator(mailbox),
        auth_required=True,
        auth_require_tls=tls_context is not None,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def mail_settings(port: int) -> dict[str, object]:
    """App settings that send mail to the test server on `port`."""
    return {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_TLS": "none",
        "SMTP_USERNAME": USERNAME,
        "SMTP_PASSWORD": PASSWORD,
        "MAIL_FROM": "kb <kb@example.org>",
    }
