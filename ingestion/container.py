"""What kind of container a delivered file is, checked before any parser touches it."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ingestion.errors import RejectedFile

MAX_FILE_BYTES = 50 * 1024 * 1024  # a monthly workbook is tens of kilobytes
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # zip bomb guard: total expanded size
MAX_RATIO = 200  # and expansion ratio of any large member
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")


def sniff(path: Path) -> str:
    """`xlsx`, `csv` or `unknown` from the first bytes (never from the name)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if not head:
        return "empty"
    if b"\x00" in head:
        return "unknown"
    return "csv"


def check_workbook(path: Path) -> None:
    """Reject what must never reach the xlsx parser: empty, encrypted, not a workbook, too large."""
    size = path.stat().st_size
    if size == 0:
        raise RejectedFile("empty_file", "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise RejectedFile("too_large", f"the file is {size:,} bytes, above the {MAX_FILE_BYTES:,} limit")
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if ENCRYPTION_MARK in data:
            raise RejectedFile("encrypted", "the workbook is password-protected (encrypted); send it unprotected")
        raise RejectedFile("not_a_workbook", "an old-format (.xls) or other OLE file, not an .xlsx workbook")
    if not head.startswith(ZIP_MAGIC):
        raise RejectedFile("not_a_workbook", "not an .xlsx workbook (no zip signature)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            biggest = max(infos, key=lambda i: i.file_size, default=None)
            if total > MAX_UNPACKED_BYTES and biggest is not None:
                raise RejectedFile(
                    "too_large",
                    f"the workbook expands to {total:,} bytes (limit "
                    f"{MAX_UNPACKED_BYTES:,}; {biggest.filename}: {biggest.file_size:,}): "
                    "refused as a possible zip bomb",
                    sheet=_sheet_of(zf, biggest.filename),
                )
            for i in infos:
                if i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise RejectedFile(
                        "too_large",
                        f"member {i.filename} expands {i.file_size:,} bytes from "
                        f"{i.compress_size:,}: refused as a possible zip bomb",
                        sheet=_sheet_of(zf, i.filename),
                    )
            if "xl/workbook.xml" not in names:
                raise RejectedFile("not_a_workbook", "a zip archive without xl/workbook.xml: not an .xlsx workbook")
            bad = zf.testzip() if size < 5 * 1024 * 1024 else None
            if bad:
                raise RejectedFile("corrupt_workbook", f"the workbook is corrupt (member {bad} fails its CRC)")
    except zipfile.BadZipFile as err:
        raise RejectedFile("corrupt_workbook", f"truncated or corrupt .xlsx file: {err}") from err


_SMALL = 1 << 20


def _sheet_of(zf: zipfile.ZipFile, member: str) -> str | None:
    """The sheet a worksheet member belongs to (workbook.xml and its rels), when small and readable."""
    try:
        infos = {i.filename: i for i in zf.infolist()}
        book, rels = infos.get("xl/workbook.xml"), infos.get("xl/_rels/workbook.xml.rels")
        if book is None or rels is None or book.file_size > _SMALL or rels.file_size > _SMALL:
            return None
        targets = {}
        for tag in re.findall(r"<Relationship\b[^>]*>", zf.read(rels).decode("utf-8", "replace")):
            rid = re.search(r'\bId="([^"]+)"', tag)
            target = re.search(r'\bTarget="([^"]+)"', tag)
            if rid and target:
                path = target.group(1).lstrip("/")
                targets[rid.group(1)] = path if path.startswith("xl/") else "xl/" + path
        for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", zf.read(book).decode("utf-8", "replace")):
            name = re.search(r'\bname="([^"]+)"', tag)
            rid = re.search(r'\br:id="([^"]+)"', tag)
            if name and rid and targets.get(rid.group(1)) == member:
                from html import unescape

                return unescape(name.group(1))
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None
