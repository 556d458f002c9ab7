"""Alert tests reuse the rule tests' raw-row builders and scenario."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rules"))

from conftest_rules import scenario  # noqa: E402,F401 - the shared fixture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server (aiosmtpd) on loopback, configured as the alert's; `.messages`: (recipients, bytes)."""
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("NTP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NTP_SMTP_PORT", str(port))
    monkeypatch.setenv("NTP_SMTP_SECURITY", "none")
    monkeypatch.setenv("NTP_ALERT_TO", "ban-chi-dao@example.org")
    yield handler
    controller.stop()
