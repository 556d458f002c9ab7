"""Sending the digest: e-mail over SMTP and a short Slack message, each when configured; a month is sent
once per channel unless forced (the record is `sent.json` next to the report).

SMTP: the Airflow connection `ntp_smtp` when it exists (host, port, login, password; extra JSON `from`,
`to` (comma-separated), `starttls`), else the environment (the same names in docker-compose.yml):
NTP_SMTP_HOST, NTP_SMTP_PORT (25), NTP_SMTP_USER, NTP_SMTP_PASSWORD, NTP_SMTP_STARTTLS (false),
NTP_ALERT_FROM, NTP_ALERT_TO (comma-separated). Slack: NTP_SLACK_WEBHOOK_URL (an incoming webhook).
Language: NTP_ALERT_LANGUAGE=vi (default) or en.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path


def language() -> str:
    return "en" if os.environ.get("NTP_ALERT_LANGUAGE", "vi").strip().lower().startswith("en") else "vi"


def _recipients(text: str | None) -> list[str]:
    return [a.strip() for a in (text or "").split(",") if a.strip()]


def _airflow_smtp() -> dict | None:
    """The `ntp_smtp` Airflow connection, when Airflow is installed and the connection exists."""
    try:
        from airflow.sdk import Connection  # noqa: PLC0415 - Airflow is optional here

        conn = Connection.get("ntp_smtp")
    except Exception:  # noqa: BLE001 - no Airflow, no context or no such connection: fall back to env
        return None
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
    recipients = _recipients(extra.get("to") or os.environ.get("NTP_ALERT_TO"))
    if not conn.host or not recipients:
        return None
    return {
        "host": conn.host,
        "port": int(conn.port or 25),
        "user": conn.login,
        "password": conn.password,
        "starttls": str(extra.get("starttls", "false")).lower() in ("1", "true", "yes"),
        "sender": extra.get("from") or os.environ.get("NTP_ALERT_FROM", "ntp-warehouse@localhost"),
        "recipients": recipients,
    }


def smtp_settings() -> dict | None:
    from_airflow = _airflow_smtp()
    if from_airflow:
        return from_airflow
    host = os.environ.get("NTP_SMTP_HOST")
    recipients = _recipients(os.environ.get("NTP_ALERT_TO"))
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


def send_email(subject: str, html_body: str, attachments: list[Path], cfg: dict, *, text_body: str = "") -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg["sender"]
    msg["To"] = ", ".join(cfg["recipients"])
    msg.set_content(text_body or "Xem báo cáo dạng HTML / see the HTML version.")
    msg.add_alternative(html_body, subtype="html")
    for path in attachments:
        if path.suffix == ".csv":
            msg.add_attachment(path.read_text(encoding="utf-8"), subtype="csv", charset="utf-8", filename=path.name)
        else:
            msg.add_attachment(path.read_bytes(), maintype="application", subtype="json", filename=path.name)
    with smtplib.SMTP(cfg["host"], cfg["port"], timeout=30) as smtp:
        if cfg["starttls"]:
            smtp.starttls()
        if cfg["user"]:
            smtp.login(cfg["user"], cfg["password"] or "")
        smtp.send_message(msg)


def post_slack(text: str, webhook_url: str) -> None:
    """A short message to a Slack incoming webhook (JSON `{"text": …}`), with the standard library."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps({"text": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - operator-configured URL
        response.read()


def subject_of(digest: dict, lang: str) -> str:
    counts = digest["counts"]
    errors = sum(counts.get("error", {}).get(s, 0) for s in ("new", "persisting"))
    warnings = sum(counts.get("warning", {}).get(s, 0) for s in ("new", "persisting"))
    if lang == "en":
        return f"[NTP] Data quality alert {digest['period']}: {errors} errors, {warnings} warnings"
    return f"[CTMTQG] Cảnh báo chất lượng số liệu tháng {digest['period']}: {errors} lỗi, {warnings} cảnh báo"


def deliver(digest: dict, outcome, *, force: bool = False) -> list[str]:
    """Send the digest on every configured channel not yet used for this month (all when forced)."""
    from alerts.render import slack_text

    marker = outcome.html_path.parent / "sent.json"
    already = json.loads(marker.read_text()) if marker.exists() else {}
    lang = digest.get("language", language())
    sent: list[str] = []
    cfg = smtp_settings()
    if cfg and (force or "email" not in already):
        send_email(
            subject_of(digest, lang),
            outcome.html_path.read_text(encoding="utf-8"),
            [outcome.csv_path, outcome.json_path],
            cfg,
            text_body=slack_text(digest, lang).replace("*", ""),
        )
        sent.append("email")
    webhook = os.environ.get("NTP_SLACK_WEBHOOK_URL")
    if webhook and (force or "slack" not in already):
        post_slack(slack_text(digest, lang), webhook)
        sent.append("slack")
    if sent:
        already.update({channel: True for channel in sent})
        marker.write_text(json.dumps(already))
    return sent
