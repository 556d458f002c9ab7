"""What kind of container a delivered file is, checked before any parser touches it."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from ingestion.archive import open_regular
from ingestion.errors import RejectedFile
from ingestion.sheetxml import SheetFacts, SheetScan, worksheet_names

MAX_FILE_BYTES = 50 * 1024 * 1024  # a monthly workbook is tens of kilobytes
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # zip bomb guard: total expanded size, counted as really inflated
MAX_RATIO = 200  # and expansion ratio of any large member
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")
_CHUNK = 1 << 16


def sniff(path: Path) -> str:
    """`xlsx`, `csv` or `unknown` from the first bytes (never from the name; never through a link)."""
    with open_regular(path) as f:
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


def check_workbook(path: Path) -> dict[str, SheetFacts]:
    """Reject what must never reach the xlsx parser: empty, encrypted, not a workbook, too large, a sheet
    whose extent would make the cell reader allocate a huge grid. Every member is inflated here under a
    hard bound on the bytes really produced (declared sizes are not trusted) and every worksheet's XML is
    scanned on the way. Returns the scanned facts per sheet name."""
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
            sheets = worksheet_names(zf) if "xl/workbook.xml" in names else {}
            total = sum(i.file_size for i in infos)
            biggest = max(infos, key=lambda i: i.file_size, default=None)
            if total > MAX_UNPACKED_BYTES and biggest is not None:
                raise RejectedFile(
                    "too_large",
                    f"the workbook expands to {total:,} bytes (limit "
                    f"{MAX_UNPACKED_BYTES:,}; {biggest.filename}: {biggest.file_size:,}): "
                    "refused as a possible zip bomb",
                    sheet=sheets.get(biggest.filename),
                )
            for i in infos:
                if i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise RejectedFile(
                        "too_large",
                        f"member {i.filename} expands {i.file_size:,} bytes from "
                        f"{i.compress_size:,}: refused as a possible zip bomb",
                        sheet=sheets.get(i.filename),
                    )
            if "xl/workbook.xml" not in names:
                raise RejectedFile("not_a_workbook", "a zip archive without xl/workbook.xml: not an .xlsx workbook")
            with open(path, "rb") as raw:
                return _inflate_all(raw, infos, sheets)
    except zipfile.BadZipFile as err:
        raise RejectedFile("corrupt_workbook", f"truncated or corrupt .xlsx file: {err}") from err


def _inflate_all(raw: BinaryIO, infos: list[zipfile.ZipInfo], sheets: dict[str, str]) -> dict[str, SheetFacts]:
    """Inflate every member from its local header on, counting the bytes actually produced; a member that
    produces more than it declares, or than the total bound, is refused on the spot."""
    facts: dict[str, SheetFacts] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        sheet = sheets.get(info.filename)
        scan = SheetScan(sheet, info.file_size) if sheet is not None else None
        try:
            total = _inflate_member(raw, info, sheet, scan, total)
        except RejectedFile:
            if scan is not None:
                scan.settle()  # what the sheet's own XML refuses before this point is the reason
            raise
        if scan is not None and sheet is not None:
            facts[sheet] = scan.close()
    return facts


def _inflate_member(raw: BinaryIO, info: zipfile.ZipInfo, sheet: str | None, scan: SheetScan | None, total: int) -> int:
    """Inflate one member into `scan` (a worksheet) under the bounds; the workbook's running total after it."""
    crc, produced = 0, 0
    for chunk in _member_chunks(raw, info, sheet):
        produced += len(chunk)
        total += len(chunk)
        if produced > info.file_size:
            raise RejectedFile(
                "too_large",
                f"member {info.filename} expands beyond the {info.file_size:,} bytes its zip headers "
                "declare: refused as a possible zip bomb",
                sheet=sheet,
            )
        if total > MAX_UNPACKED_BYTES:
            raise RejectedFile(
                "too_large",
                f"the workbook expands to more than {MAX_UNPACKED_BYTES:,} bytes "
                f"(at member {info.filename}): refused as a possible zip bomb",
                sheet=sheet,
            )
        crc = zlib.crc32(chunk, crc)
        if scan is not None:
            scan.feed(chunk)
    if produced != info.file_size or crc != info.CRC:
        raise RejectedFile("corrupt_workbook", f"the workbook is corrupt (member {info.filename} fails its CRC)")
    return total


def _member_chunks(raw: BinaryIO, info: zipfile.ZipInfo, sheet: str | None):
    """The inflated bytes of one member, chunk by chunk, read from the raw file (never more than one
    chunk's worth of output at a time, whatever the headers say)."""
    if info.flag_bits & 0x1:
        raise RejectedFile("encrypted", f"member {info.filename} is encrypted; send the workbook unprotected")
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != ZIP_MAGIC:
        raise RejectedFile("corrupt_workbook", f"the workbook is corrupt (no local header for {info.filename})")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left > 0:
            chunk = raw.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise RejectedFile(
            "corrupt_workbook",
            f"member {info.filename} uses compression method {info.compress_type}, not deflate",
            sheet=sheet,
        )
    inflater = zlib.decompressobj(-15)
    while not inflater.eof:
        data = inflater.unconsumed_tail or raw.read(_CHUNK)
        if not data:
            return
        try:
            chunk = inflater.decompress(data, _CHUNK)
        except zlib.error as err:
            raise RejectedFile("corrupt_workbook", f"member {info.filename} cannot be inflated: {err}") from err
        if chunk:
            yield chunk
