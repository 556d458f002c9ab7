"""The delivery contract of the Treasury (KBNN) CSV files: the columns of a TABMIS extract and of the
annual plan-assignment file, which of them are amounts, and the bounds an amount must respect. Read by
both load paths (`ingestion.csvload`, staging; `ingestion.bulk`, COPY straight into raw)."""

from __future__ import annotations

MAX_AMOUNT = 10**13  # 10,000 billion VND: no single budget line comes near it
TREASURY_COLUMNS = (
    "ky_bao_cao",
    "ma_kbnn",
    "ma_tinh",
    "ma_ctmt",
    "nguon_von",
    "loai_von",
    "nam_kh",
    "ma_dvqhns",
    "ten_dvqhns",
    "du_toan_giao",
    "thanh_toan_trong_ky",
    "luy_ke_thanh_toan",
)
PLAN_COLUMNS = ("nam_kh", "ma_tinh", "ma_ctmt", "nguon_von", "loai_von", "ke_hoach_giao")
AMOUNTS = {
    "treasury_extract": ("du_toan_giao", "thanh_toan_trong_ky", "luy_ke_thanh_toan"),
    "plan_assignment": ("ke_hoach_giao",),
}
