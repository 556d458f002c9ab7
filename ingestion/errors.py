"""The one exception a parser raises for a bad delivered file."""

from __future__ import annotations

from typing import Any


class RejectedFile(Exception):
    """A delivered file that cannot be read correctly; it is quarantined with this reason.

    `code` is a short snake_case error code (see docs/ingestion.md); `sheet`, `row` (1-based line or
    worksheet row) and `column` (worksheet letter or CSV column name) locate the problem when known.
    `period` and `province_code` are filled in when they could be read before the failure.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        period: Any = None,
        province_code: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column
        self.period = period
        self.province_code = province_code

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def to_dict(self, file_name: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "file": file_name,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
        }
