"""Facts the cell reader does not expose, read from the worksheet XML: formulas without a cached
value, and hidden rows."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', re.S)
_SHEET_ALT = re.compile(rb'<sheet\b[^>]*?r:id="([^"]*)"[^>]*?name="([^"]*)"', re.S)
_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"', re.S)
_REL_ALT = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"', re.S)
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<v>[^<]+</v>|<is>", re.S)
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"', re.S)


@dataclass
class SheetFacts:
    formulas_without_value: set[tuple[int, str]] = field(default_factory=set)  # (row, column letter)
    hidden_rows: set[int] = field(default_factory=set)


def _unescape(raw: bytes) -> str:
    return (
        raw.decode("utf-8")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
    )


def sheet_facts(path: Path) -> dict[str, SheetFacts]:
    """Per sheet name: cells holding a formula and no cached value, and hidden rows."""
    out: dict[str, SheetFacts] = {}
    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
        targets = {rid: tgt for rid, tgt in _REL.findall(rels)}
        targets.update({rid: tgt for tgt, rid in _REL_ALT.findall(rels)})
        sheets = {rid: name for name, rid in _SHEET.findall(wb)}
        sheets.update({rid: name for rid, name in _SHEET_ALT.findall(wb)})
        for rid, name in sheets.items():
            target = targets.get(rid)
            if target is None:
                continue
            t = target.decode()
            member = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
            try:
                xml = zf.read(member)
            except KeyError:
                continue
            facts = SheetFacts()
            if b"hidden=" in xml:
                facts.hidden_rows = {int(r) for r in _HIDDEN_ROW.findall(xml)}
            if b"<f" in xml:
                for attrs, body in _CELL.findall(xml):
                    if body and b"<f" in body and not _VALUE.search(body):
                        m = _REF.search(attrs)
                        if m:
                            facts.formulas_without_value.add((int(m.group(2)), m.group(1).decode()))
            out[_unescape(name)] = facts
    return out
