"""Superset configuration of the project's BI tool, read from environment variables only.

Used by the local path (`make bi`) and by the `superset` service of docker-compose.yml alike:

* SUPERSET_SECRET_KEY   signs sessions and encrypts the stored warehouse connection (required; `make bi`
                        generates one into $NTP_DATA_DIR/superset/secret-key, mode 0600).
* SUPERSET_METADATA_URL Superset's own metadata database; default SQLite under $NTP_DATA_DIR/superset.
* NTP_DATA_DIR          the project's data directory (default .data in the checkout).

The warehouse connection itself (role ntp_bi, password from NTP_BI_PASSWORD) is not configured here: it is
imported with the dashboards (bi/datasets, bi/dashboards) and its password is passed at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

_data_dir = Path(os.environ.get("NTP_DATA_DIR") or Path(__file__).resolve().parent.parent / ".data")
_home = Path(os.environ.get("SUPERSET_HOME") or _data_dir / "superset")
_home.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]  # no default: a missing key must stop the server
DATA_DIR = str(_home)
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_URL") or f"sqlite:///{_home / 'superset.db'}"

# A read-only monitoring tool: no uploads, no DML, no example data, no telemetry.
SQLLAB_CTAS_NO_LIMIT = False
CSV_EXTENSIONS: set[str] = set()
EXCEL_EXTENSIONS: set[str] = set()
COLUMNAR_EXTENSIONS: set[str] = set()
ALLOWED_EXTENSIONS: set[str] = set()
PREVENT_UNSAFE_DB_CONNECTIONS = True
SCARF_ANALYTICS = False
ROW_LIMIT = 50000

# Query results cached for an hour in the process (the marts change once a month); no Redis needed here.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 3600, "CACHE_KEY_PREFIX": "ntp_"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 3600, "CACHE_KEY_PREFIX": "ntp_data_"}

FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True, "ENABLE_TEMPLATE_PROCESSING": False}

# The UI has no Vietnamese translation; the dashboards carry their own labels (a Vietnamese and an English set).
BABEL_DEFAULT_LOCALE = "en"
LANGUAGES: dict[str, dict[str, str]] = {}

# Served over plain HTTP on a laptop or behind the deployment's proxy; the proxy adds TLS and its headers.
TALISMAN_ENABLED = os.environ.get("SUPERSET_TALISMAN_ENABLED", "false").lower() == "true"
SESSION_COOKIE_SAMESITE = "Lax"
