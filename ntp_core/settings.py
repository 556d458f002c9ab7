"""Every setting of the product, read from environment variables in one place.

The same variable names are used by the embedded path (`make demo`, `ntp ...`) and by
`docker-compose.yml`, so a deployment is configured exactly like a laptop.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import make_conninfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The Airflow pool of warehouse-heavy tasks (file loads, dbt models): it bounds how many run at once on
#: the warehouse, whatever the executor and the number of workers (NTP_WAREHOUSE_POOL_SLOTS, default 4).
WAREHOUSE_POOL = "ntp_warehouse"
WAREHOUSE_POOL_SLOTS = 4


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    inbox_dir: Path
    warehouse_url: str | None  # None: use the embedded server under data_dir

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def airflow_home(self) -> Path:
        return Path(os.environ.get("AIRFLOW_HOME") or self.data_dir / "airflow")

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "warehouse"


def private_dir(path: Path) -> Path:
    """Create `path` and every missing parent with mode 0700 (folders that exist keep their mode)."""
    missing, parent = [], path
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
    return path


def _pg_env_url() -> str | None:
    """A connection string from the standard libpq variables when PGHOST is set explicitly (every part
    quoted by libpq's own rules, so a password with `/ # % ? @ :` or spaces survives)."""
    host = os.environ.get("PGHOST")
    if not host:
        return None
    return make_conninfo(
        host=host,
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "ntp"),
        password=os.environ.get("PGPASSWORD") or None,
        dbname=os.environ.get("PGDATABASE", "ntp"),
    )


def load() -> Settings:
    data_dir = Path(os.environ.get("NTP_DATA_DIR") or PROJECT_ROOT / ".data").resolve()
    inbox = Path(os.environ.get("NTP_INBOX_DIR") or data_dir / "inbox").resolve()
    url = os.environ.get("WAREHOUSE_URL") or _pg_env_url()
    return Settings(data_dir=data_dir, inbox_dir=inbox, warehouse_url=url)
