"""Sending the alert through Airflow's providers: e-mail with the SMTP provider's hook over an Airflow
connection, a short Slack message to a webhook kept in a connection. Each part of a month (the national
digest, each province's part) is sent once per channel unless forced; the sends are recorded in
audit.alert_sends.

Configuration (docs/quality-rules.md, "Delivery", is the one place that lists it):
* e-mail: the Airflow connection `ntp_smtp` (conn type smtp; extra `from_email`, and the provider's
  `disable_ssl` / `disable_tls` / `ssl_context`: SMTPS on 465 by default, STARTTLS with `disable_ssl`, the
  certificate always verified unless `ssl_context` is `none`). For the embedded path the environment still
  works: NTP_SMTP_HOST, NTP_SMTP_PORT, NTP_SMTP_USER, NTP_SMTP_PASSWORD, NTP_SMTP_SECURITY (ssl | starttls |
  none; default starttls), NTP_ALERT_FROM are mapped
  in code into the connection `ntp_smtp_env`.
  The national digest goes to NTP_ALERT_TO (comma-separated), each province's part to its recipients
  (alerts.recipients).
* Slack: the connection `ntp_slack` whose password (or host) is an incoming-webhook URL, or
  NTP_SLACK_WEBHOOK_URL, which takes precedence.
* language: NTP_ALERT_LANGUAGE=vi (default) or en.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ENV_CONN_ID = "ntp_smtp_env"


def language() -> str:
    return "en" if os.environ.get("NTP_ALERT_LANGUAGE", "vi").strip().lower().startswith("en") else "vi"


def _addresses(text: str | None) -> list[str]:
    return [a.strip() for a in (text or "").split(",") if a.strip()]


@contextmanager
def _connection_in_env(conn_id: str, conn: dict | None) -> Iterator[None]:
    """`conn` as the Airflow connection `conn_id` (an AIRFLOW_CONN_ variable) for the duration of one send only:
    nothing is left in the environment that a later process started from this one would inherit."""
    if conn is None:
        yield
        return
    key = "AIRFLOW_CONN_" + conn_id.upper()
    before = os.environ.get(key)
    os.environ[key] = json.dumps(conn)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _env_connection() -> dict | None:
    """NTP_SMTP_* as the definition of the Airflow connection `ntp_smtp_env`, or None when NTP_SMTP_HOST is unset."""
    host = os.environ.get("NTP_SMTP_HOST")
    if not host:
        return None
    security = os.environ.get("NTP_SMTP_SECURITY", "starttls").strip().lower()
    extra = {
        "from_email": os.environ.get("NTP_ALERT_FROM", "ntp-warehouse@localhost"),
        "disable_ssl": security != "ssl",
        "disable_tls": security != "starttls",
        "retry_limit": 1,
    }
    conn = {"conn_type": "smtp", "host": host, "port": int(os.environ.get("NTP_SMTP_PORT", "25")), "extra": extra}
    if os.environ.get("NTP_SMTP_USER"):
        conn["login"] = os.environ["NTP_SMTP_USER"]
        conn["password"] = os.environ.get("NTP_SMTP_PASSWORD", "")
    return conn


def _airflow_connection(conn_id: str):
    try:
        from airflow.sdk import BaseHook  # noqa: PLC0415 - Airflow loads only where a connection is looked up

        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - no Airflow context or no such connection
        return None


def smtp_settings() -> dict | None:
    """{'conn_id', 'env_conn' (the connection's definition when it comes from NTP_SMTP_*), 'sender',
    'recipients' (the national digest's)} or None when e-mail is not configured."""
    env_conn = _env_connection()
    if env_conn is None:
        conn = _airflow_connection("ntp_smtp")
        if conn is None or not conn.host:
            return None
        conn_id = "ntp_smtp"
        sender = conn.extra_dejson.get("from_email") or os.environ.get("NTP_ALERT_FROM", "ntp-warehouse@localhost")
    else:
        conn_id = ENV_CONN_ID
        sender = os.environ.get("NTP_ALERT_FROM", "ntp-warehouse@localhost")
    return {
        "conn_id": conn_id,
        "env_conn": env_conn,
        "sender": sender,
        "recipients": _addresses(os.environ.get("NTP_ALERT_TO")),
    }


def message(
    subject: str,
    html_body: str,
    cfg: dict,
    *,
    to: list[str],
    text_body: str = "",
    images: dict[str, bytes] | None = None,
    attachments: list[Path] | None = None,
) -> EmailMessage:
    """multipart/mixed [ multipart/related [ alternative [text, html], PNG by Content-ID ], attachments ].
    `images`: Content-ID (without brackets) → PNG bytes, referenced in the HTML as cid:<id>."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg["sender"]
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = make_msgid(domain="ntp-warehouse.local")
    msg.set_content(text_body or "Xem báo cáo dạng HTML / see the HTML version.")
    msg.add_alternative(html_body, subtype="html")
    html_part = list(msg.iter_parts())[1]  # multipart/alternative: [text, html]
    for cid, data in (images or {}).items():
        html_part.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    for path in attachments or []:
        if path.suffix == ".csv":
            msg.add_attachment(path.read_bytes(), maintype="text", subtype="csv", filename=path.name)
        elif path.suffix == ".xlsx":
            msg.add_attachment(
                path.read_bytes(),
                maintype="application",
                subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                filename=path.name,
            )
        else:
            msg.add_attachment(path.read_bytes(), maintype="application", subtype="json", filename=path.name)
    return msg


def send_message(msg: EmailMessage, cfg: dict) -> None:
    """Send through the SMTP provider's hook: it opens SMTPS or STARTTLS (verifying the certificate) and
    logs in as the connection says."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook  # noqa: PLC0415 - Airflow loads only to send

    with _connection_in_env(cfg["conn_id"], cfg.get("env_conn")), SmtpHook(smtp_conn_id=cfg["conn_id"]) as hook:
        assert hook._smtp_client is not None  # noqa: SLF001 - connected on entering the hook
        hook._smtp_client.send_message(msg)  # noqa: SLF001 - the hook's connected client; the MIME is ours


def send_email(subject: str, html_body: str, attachments: list[Path], cfg: dict, *, text_body: str = "") -> None:
    """A simple e-mail to the national recipients (the pipeline-failure alert)."""
    send_message(
        message(subject, html_body, cfg, to=cfg["recipients"], text_body=text_body, attachments=attachments), cfg
    )


def slack_webhook() -> str | None:
    """NTP_SLACK_WEBHOOK_URL when set (the embedded path), else the connection `ntp_slack`'s password or host."""
    if os.environ.get("NTP_SLACK_WEBHOOK_URL"):
        return os.environ["NTP_SLACK_WEBHOOK_URL"].strip()
    conn = _airflow_connection("ntp_slack")
    if conn is None:
        return None
    return conn.password or conn.host or None


def post_slack(text: str, webhook_url: str) -> None:
    """A short message to a Slack incoming webhook (JSON `{"text": …}`)."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps({"text": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - operator-configured URL
        response.read()


def already_sent(conn, period, channel: str, part: str) -> bool:
    return (
        conn.execute(
            "select 1 from audit.alert_sends where period = %s and channel = %s and part = %s limit 1",
            (period, channel, part),
        ).fetchone()
        is not None
    )


def record_send(conn, period, channel: str, part: str, recipients: list[str], *, forced: bool) -> None:
    conn.execute(
        "insert into audit.alert_sends (period, channel, part, recipients, forced) values (%s, %s, %s, %s, %s)",
        (period, channel, part, ", ".join(recipients), forced),
    )
    conn.commit()


def subject_of(digest: dict, lang: str, province: str | None = None) -> str:
    live = [f for f in digest["findings"] if f["status"] in ("new", "persisting")]
    errors = sum(f["severity"] == "error" for f in live)
    warnings = sum(f["severity"] == "warning" for f in live)
    where = f" — {province}" if province else ""
    if lang == "en":
        return f"[NTP] Data quality alert {digest['period']}{where}: {errors} errors, {warnings} warnings"
    return f"[CTMTQG] Cảnh báo chất lượng số liệu tháng {digest['period']}{where}: {errors} lỗi, {warnings} cảnh báo"
