"""Every setting of the product, read from environment variables in one place.

The same variable names are used by the embedded path (`make demo`, `ntp ...`) and by
`docker-compose.yml`, so a deployment is configured exactly like a laptop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def _pg_env_url() -> str | None:
    """Build a URL from the standard libpq variables when PGHOST is set explicitly."""
    host = os.environ.get("PGHOST")
    if not host:
        return None
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD")
    port = os.environ.get("PGPORT", "5432")
    db = os.environ.get("PGDATABASE", "ntp")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgresql://{auth}{host}:{port}/{db}"


def load() -> Settings:
    data_dir = Path(os.environ.get("NTP_DATA_DIR") or PROJECT_ROOT / ".data").resolve()
    inbox = Path(os.environ.get("NTP_INBOX_DIR") or data_dir / "inbox").resolve()
    url = os.environ.get("WAREHOUSE_URL") or _pg_env_url()
    return Settings(data_dir=data_dir, inbox_dir=inbox, warehouse_url=url)
