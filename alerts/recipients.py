"""Who receives each province's part of the alert: deployment data, not code. A CSV with the columns
`province_code,role,email` (role: Sở Tài chính | KBNN tỉnh | Ban chỉ đạo), read from the Airflow Variable
`ntp_recipients` (the CSV text) when it exists, else from `$NTP_DATA_DIR/recipients.csv`. An example with
example.org addresses: alerts/recipients.example.csv."""

from __future__ import annotations

import csv
import io
import logging
import re

from ntp_core.settings import load

log = logging.getLogger(__name__)

ROLES = ("Sở Tài chính", "KBNN tỉnh", "Ban chỉ đạo")
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")


def _airflow_variable() -> str | None:
    try:
        from airflow.sdk import Variable  # noqa: PLC0415 - Airflow loads only where the Variable is read

        return Variable.get("ntp_recipients", default=None)
    except Exception:  # noqa: BLE001 - no Airflow or no task context: the file decides
        return None


def recipients_text() -> str | None:
    text = _airflow_variable()
    if text:
        return text
    path = load().data_dir / "recipients.csv"
    return path.read_text(encoding="utf-8-sig") if path.exists() else None


def parse(text: str) -> dict[str, list[tuple[str, str]]]:
    """province code → [(role, e-mail)]; a line with an unknown role or a malformed address is skipped
    (logged, without the address)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for n, row in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        code = (row.get("province_code") or "").strip()
        role = (row.get("role") or "").strip()
        email = (row.get("email") or "").strip()
        if not code.isdigit() or role not in ROLES or not _ADDRESS.fullmatch(email):
            log.warning("recipients line %d skipped: needs a province code, a known role and one address", n)
            continue
        out.setdefault(code.zfill(2), []).append((role, email))
    return out


def recipients() -> dict[str, list[tuple[str, str]]]:
    text = recipients_text()
    return parse(text) if text else {}
