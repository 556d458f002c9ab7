"""Sending the digest: e-mail over SMTP when configured; a month is sent once unless forced.

Configuration (environment, the same names in docker-compose.yml):
NTP_SMTP_HOST, NTP_SMTP_PORT (25), NTP_SMTP_USER, NTP_SMTP_PASSWORD, NTP_SMTP_STARTTLS (false),
NTP_ALERT_FROM, NTP_ALERT_TO (comma-separated).
"""

from __future__ import annotations

import json
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path


def smtp_settings() -> dict | None:
    host = os.environ.get("NTP_SMTP_HOST")
    recipients = [a.strip() for a in os.environ.get("NTP_ALERT_TO", "").split(",") if a.strip()]
    if not host or not recipients:
        return None
    return {
        "host": host,
        "port": int(os.environ.get("NTP_SMTP_PORT", "25")),
        "user": os.environ.get("NTP_SMTP_USER"),
        "password": os.environ.get("NTP_SMTP_PASSWORD"),
        "starttls": os.environ.get("NTP_SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        "sender": os.environ.get("NTP_ALERT_FROM", "ntp-warehouse@localhost"),
        "recipients": recipients,
    }


def send_email(subject: str, html_body: str, attachments: list[Path], cfg: dict) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg["sender"]
    msg["To"] = ", ".join(cfg["recipients"])
    msg.set_content("Xem báo cáo dạng HTML đính kèm / see the HTML version.")
    msg.add_alternative(html_body, subtype="html")
    for path in attachments:
        subtype = "csv" if path.suffix == ".csv" else "json"
        msg.add_attachment(path.read_bytes(), maintype="text" if subtype == "csv" else "application",
                           subtype=subtype, filename=path.name)
    with smtplib.SMTP(cfg["host"], cfg["port"], timeout=30) as smtp:
        if cfg["starttls"]:
            smtp.starttls()
        if cfg["user"]:
            smtp.login(cfg["user"], cfg["password"] or "")
        smtp.send_message(msg)


def deliver(digest: dict, outcome, *, force: bool = False) -> list[str]:
    """Send the digest on every configured channel not yet used for this month (all when forced)."""
    marker = outcome.html_path.parent / "sent.json"
    already = json.loads(marker.read_text()) if marker.exists() else {}
    sent: list[str] = []
    cfg = smtp_settings()
    if cfg and (force or "email" not in already):
        counts = digest["counts"]
        errors = sum(counts.get("error", {}).get(s, 0) for s in ("new", "persisting"))
        warnings = sum(counts.get("warning", {}).get(s, 0) for s in ("new", "persisting"))
        subject = f"[CTMTQG] Cảnh báo chất lượng số liệu tháng {digest['period']}: {errors} lỗi, {warnings} cảnh báo"
        send_email(subject, outcome.html_path.read_text(encoding="utf-8"),
                   [outcome.csv_path, outcome.json_path], cfg)
        sent.append("email")
    if sent:
        already.update({channel: True for channel in sent})
        marker.write_text(json.dumps(already))
    return sent
