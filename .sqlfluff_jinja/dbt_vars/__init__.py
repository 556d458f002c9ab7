"""The `vars` of dbt_project.yml for linting the SQL without dbt (sqlfluff's jinja templater)."""

from pathlib import Path

import yaml

_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


def get(name, default=None):
    return yaml.safe_load(_FILE.read_text(encoding="utf-8"))["vars"].get(name, default)
