"""Messy variants: how a real file deviates from the canonical layout while carrying the same figures.

`Style()` is the canonical layout; `workbook_style(rng, level)` and `csv_style(rng, level)` draw a variant
for one file. Level 0 is canonical, 1 mild (wording, units, text numbers, BOM, `;`), 2 adds Unicode and
structure variants (NFD, old tone placement, hidden/blank rows, merged cells, formulas with cached values,
Windows-1258, duplicated lines, lost leading zeros, a `Tổng cộng` line), 3 uses them more often and together.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

UNIT_LINES = {
    "triệu": ("Đơn vị tính: triệu đồng", "ĐVT: Triệu đồng", "Đơn vị tính: Triệu đồng"),
    "đồng": ("Đơn vị: đồng", "Đơn vị tính: đồng"),
    "tỷ": ("Đơn vị tính: tỷ đồng", "ĐVT: Tỷ đồng"),
}
UNIT_DIVISOR = {"triệu": 1_000_000, "đồng": 1, "tỷ": 1_000_000_000}

CANONICAL_LABELS = {
    "content": "Nội dung",
    "code": "Mã",
    "block_current": "Kế hoạch năm {year}",
    "block_carry": "Kế hoạch các năm trước chuyển sang",
    "plan": "Kế hoạch vốn giao",
    "alloc": "Đã phân bổ chi tiết",
    "disb": "Lũy kế giải ngân từ đầu năm",
    "total": "Tổng số",
    "nstw": "NSTW",
    "nsdp": "NSĐP",
    "rate": "Tỷ lệ giải ngân (%)",
    "note": "Ghi chú",
}
LABEL_VARIANTS = {
    "content": ("Chương trình, dự án, tiểu dự án", "NỘI DUNG"),
    "block_current": ("KẾ HOẠCH NĂM {year}", "Kế hoạch\nnăm {year}", "Kế hoạch  năm {year} "),
    "block_carry": (
        "Vốn kéo dài",
        "Kế hoạch các năm trước\nchuyển sang",
        "KẾ HOẠCH CÁC NĂM TRƯỚC CHUYỂN SANG",
    ),
    "plan": ("Kế hoạch vốn\ngiao", "KẾ HOẠCH VỐN GIAO"),
    "alloc": ("Đã phân bổ\nchi tiết", "đã phân bổ chi tiết"),
    "disb": ("Giải ngân lũy kế", "Lũy kế giải ngân\ntừ đầu năm", "Luỹ kế giải ngân từ đầu năm"),
    "total": ("TỔNG SỐ", "Tổng  số"),
    "nstw": ("NS TW", "Ngân sách trung ương", "Ngân sách\nTrung ương"),
    "nsdp": ("NS ĐP", "Ngân sách địa phương", "Ngân sách\nđịa phương"),
    "rate": ("Tỷ lệ giải ngân\n(%)", "TỶ LỆ GIẢI NGÂN (%)"),
    "note": ("GHI CHÚ",),
}
EXTRA_TITLES = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Biểu số 01/CTMTQG",
    "(Kèm theo Báo cáo số 125/BC-UBND)",
)
# old-style tone placement (Hoà, Thuỷ, khoẻ) from the new style (Hòa, Thủy, khỏe)
_OLD_TONE = {
    "òa": "oà",
    "óa": "oá",
    "ỏa": "oả",
    "õa": "oã",
    "ọa": "oạ",
    "òe": "oè",
    "óe": "oé",
    "ỏe": "oẻ",
    "õe": "oẽ",
    "ọe": "oẹ",
    "ùy": "uỳ",
    "úy": "uý",
    "ủy": "uỷ",
    "ũy": "uỹ",
    "ụy": "uỵ",
}
_OLD_TONE.update({k.capitalize(): v.capitalize() for k, v in list(_OLD_TONE.items())})
_OLD_TONE.update({k.upper(): v.upper() for k, v in list(_OLD_TONE.items()) if k.islower()})


def old_tone(text: str) -> str:
    for new, old in _OLD_TONE.items():
        text = text.replace(new, old)
    return text


def vn_number(vnd: int, unit: str, form: str) -> str:
    """A VND amount as Vietnamese-format text in `unit`: `1.234.567,5`, `1 234,5`, `(12,5)` if negative."""
    value = abs(Decimal(int(vnd)) / UNIT_DIVISOR[unit])
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    sep = "." if form == "dot" else " "
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = sep.join(groups) + ("," + frac if frac else "")
    return f"({out})" if vnd < 0 else out


@dataclass
class Style:
    """One workbook's presentation. The defaults are the canonical layout."""

    unit: str = "triệu"
    unit_line: str = "Đơn vị tính: triệu đồng"
    labels: dict[str, str] = field(default_factory=dict)
    code_column: bool = True
    title_form: int = 0  # 0 UBND TỈNH X, 1 ỦY BAN NHÂN DÂN TỈNH X, 2 TỈNH X, 3 X
    ascii_names: bool = False
    nfd: bool = False
    old_tone: bool = False
    extra_title_rows: tuple[str, ...] = ()
    formulas: bool = False
    merge_total_label: bool = False
    merge_note: bool = False
    trailing_columns: int = 0
    text_share: float = 0.0  # share of amount cells written as text
    zero_forms: tuple[object, ...] = (None,)  # None blank, 0, "-", "–"
    blank_program_rows: bool = False
    hidden_rows: tuple[str, ...] = ()  # "blank" (a hidden empty row), "data" (a hidden data row)
    name_spaces: bool = False
    seed: int = 0
    #: broken-file hooks: a cell (0-based row, col, sheet capital type) written as bad text or as a formula
    #: whose cached value is removed afterwards; and whether the period line is written at all
    bad_cell: tuple[int, int, str, str] | None = None
    period_line: bool = True

    @property
    def canonical(self) -> bool:
        return self == Style()

    def label(self, key: str) -> str:
        return self.labels.get(key, CANONICAL_LABELS[key])

    def text(self, s: str) -> str:
        if self.old_tone:
            s = old_tone(s)
        if self.nfd:
            s = unicodedata.normalize("NFD", s)
        return s

    def component_name(self, name: str) -> str:
        return f"  {name.replace(': ', ':  ')} " if self.name_spaces else name

    def display(self, vnd: int) -> float | int:
        if self.unit == "đồng":
            return int(vnd)
        return int(vnd) / UNIT_DIVISOR[self.unit]

    def _h(self, row: int, col: int) -> float:
        # a cheap deterministic hash in [0, 1) per cell
        x = (row * 73856093) ^ (col * 19349663) ^ (self.seed * 83492791)
        return ((x * 2654435761) % 4294967296) / 4294967296

    def number_form(self, row: int, col: int) -> str:
        h = self._h(row, col)
        if h >= self.text_share:
            return "number"
        return "dot" if h < self.text_share / 2 else "space"

    def zero_form(self, row: int, col: int) -> object:
        return self.zero_forms[int(self._h(col, row) * len(self.zero_forms))]

    def blank_row_before(self, stt: str, row: int) -> bool:
        return self.blank_program_rows and stt in ("I", "II", "III")

    def hide_row(self, row: int, is_data: bool) -> bool:
        return is_data and "data" in self.hidden_rows and self._h(row, 999) < 0.15


def workbook_style(rng: np.random.Generator, level: int) -> Style:
    if level <= 0:
        return Style()
    p = {1: 0.25, 2: 0.45, 3: 0.7}[min(level, 3)]

    def pick() -> bool:
        return bool(rng.random() < p)

    unit = "triệu"
    if pick():
        unit = str(rng.choice(["triệu", "đồng", "tỷ"]))
    lines = UNIT_LINES[unit]
    labels = {}
    for key, variants in LABEL_VARIANTS.items():
        if pick():
            labels[key] = str(variants[int(rng.integers(len(variants)))])
    st = Style(
        unit=unit,
        unit_line=str(lines[int(rng.integers(len(lines)))]),
        labels=labels,
        code_column=not pick(),
        title_form=int(rng.integers(4)) if pick() else 0,
        extra_title_rows=tuple(EXTRA_TITLES[: int(rng.integers(1, 5))]) if pick() else (),
        text_share=float(rng.uniform(0.1, 0.6)) if pick() else 0.0,
        zero_forms=((None, 0, "-", "–") if pick() else (None,)),
        trailing_columns=int(rng.integers(1, 4)) if pick() else 0,
        blank_program_rows=pick(),
        seed=int(rng.integers(1 << 30)),
    )
    if level >= 2:
        st.nfd = pick()
        st.old_tone = pick()
        st.ascii_names = pick()
        st.formulas = pick()
        st.merge_total_label = pick()
        st.merge_note = pick()
        st.hidden_rows = ("blank", "data") if pick() else ()
        st.name_spaces = pick()
    return st


@dataclass
class CsvStyle:
    """One Treasury extract's encoding quirks. The defaults are the canonical extract."""

    bom: bool = False
    encoding: str = "utf-8"  # or "cp1258"
    sep: str = ","
    quoted_thousands: bool = False
    total_line: bool = False
    duplicate_share: float = 0.0
    strip_zeros: bool = False  # `1` for `01` in ma_tinh

    @property
    def canonical(self) -> bool:
        return self == CsvStyle()


def csv_style(rng: np.random.Generator, level: int) -> CsvStyle:
    if level <= 0:
        return CsvStyle()
    p = {1: 0.25, 2: 0.45, 3: 0.7}[min(level, 3)]

    def pick() -> bool:
        return bool(rng.random() < p)

    st = CsvStyle(bom=pick(), sep=";" if pick() else ",")
    if level >= 2:
        st.encoding = "cp1258" if pick() else "utf-8"
        if st.encoding == "cp1258":
            st.bom = False
        st.quoted_thousands = pick()
        st.total_line = pick()
        st.duplicate_share = 0.02 if pick() else 0.0
        st.strip_zeros = pick()
    return st


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Encode Vietnamese text in Windows-1258: composed base letters (â, ơ, ư…) + combining tone marks."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in parts if c not in _TONES)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", base).encode("cp1258") + tones.encode("cp1258"))
    return b"".join(out)
