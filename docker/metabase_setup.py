"""One-shot job of the compose stack: Metabase's first admin and the warehouse as a data source.

Metabase connects as the read-only role `ntp_bi` (password NTP_BI_PASSWORD), limited to the `marts`
schema. The role is created here if dbt has not run yet (same definition as dbt's on-run-start hook, which
grants it read access to `marts` on every build). Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

import psycopg
from psycopg import sql

MB = os.environ.get("MB_URL", "http://metabase:3000").rstrip("/")
BI_ROLE = "ntp_bi"
DB_NAME = "NTP warehouse (marts)"


def call(method: str, path: str, body: dict | None = None, session: str | None = None) -> dict:
    req = urllib.request.Request(
        MB + path,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json"},
    )
    if session:
        req.add_header("X-Metabase-Session", session)
    with urllib.request.urlopen(req, timeout=60) as resp:
        text = resp.read().decode() or "{}"
    return json.loads(text) if text.strip().startswith(("{", "[")) else {}


def ensure_bi_role() -> None:
    password = os.environ["NTP_BI_PASSWORD"]
    with psycopg.connect(autocommit=True) as conn:  # PG* variables
        if not conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone():
            conn.execute(
                sql.SQL("create role {} login password {}").format(sql.Identifier(BI_ROLE), sql.Literal(password))
            )
            print(f"created role {BI_ROLE}")


def main() -> int:
    ensure_bi_role()
    for _ in range(60):
        try:
            if call("GET", "/api/health").get("status") == "ok":
                break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(5)
    else:
        print("Metabase did not become healthy", file=sys.stderr)
        return 1
    details = {
        "host": os.environ.get("PGHOST", "warehouse"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "dbname": os.environ.get("PGDATABASE", "ntp"),
        "user": BI_ROLE,
        "password": os.environ["NTP_BI_PASSWORD"],
        "ssl": False,
        "schema-filters-type": "inclusion",
        "schema-filters-patterns": "marts",
    }
    props = call("GET", "/api/session/properties")
    email, password = os.environ["MB_ADMIN_EMAIL"], os.environ["MB_ADMIN_PASSWORD"]
    if not props.get("has-user-setup"):
        call(
            "POST",
            "/api/setup",
            {
                "token": props["setup-token"],
                "user": {
                    "email": email,
                    "password": password,
                    "first_name": "NTP",
                    "last_name": "Admin",
                    "site_name": "NTP warehouse",
                },
                "prefs": {"site_name": "NTP warehouse", "allow_tracking": False},
            },
        )
        print(f"Metabase admin {email} created")
    session = call("POST", "/api/session", {"username": email, "password": password})["id"]
    existing = call("GET", "/api/database", session=session)
    names = {d.get("name") for d in existing.get("data", existing if isinstance(existing, list) else [])}
    if DB_NAME in names:
        print(f"Metabase already has '{DB_NAME}'")
        return 0
    call("POST", "/api/database", {"engine": "postgres", "name": DB_NAME, "details": details}, session=session)
    print(f"Metabase connected to the warehouse as {BI_ROLE} (schema marts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
