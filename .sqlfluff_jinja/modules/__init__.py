"""dbt's `modules` context for linting the SQL without dbt (sqlfluff's jinja templater)."""

import datetime
import itertools
import re

__all__ = ["datetime", "itertools", "re"]
