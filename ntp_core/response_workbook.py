"""The findings workbook's contract: the sheet and labels that the alert writes (alerts.workbook) and that
ingestion reads back when a province returns it answered (ingestion.responses). One place, so the writer
and the reader cannot drift apart."""

from __future__ import annotations

SHEET = "Phát hiện"
PROVINCE_LABEL = "Mã tỉnh"
PERIOD_LABEL = "Kỳ báo cáo"
FINDING_ID = "Mã phát hiện"
EXPLANATION = "Giải trình"
ACTION = "Hướng xử lý"
#: The figures columns (header → fct_findings column): shown to the province, compared when returned.
FIGURES = {
    "Số của tỉnh (đồng)": "province_value_vnd",
    "Số của KBNN (đồng)": "treasury_value_vnd",
    "Chênh lệch (đồng)": "delta_vnd",
}
