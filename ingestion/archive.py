"""The immutable, content-addressed archive and the quarantine folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ntp_core.settings import private_dir

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


class NotARegularFile(OSError):
    """The path is (now) a symbolic link, a folder, a device or a pipe: nothing is read from it."""


def open_regular(path: Path) -> BinaryIO:
    """Open a delivered file for reading without following a symbolic link (`O_NOFOLLOW`) and without
    blocking on a pipe; refuse anything but a regular file. Work from the returned file, never the path."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if os.path.islink(path):
            raise NotARegularFile(f"{Path(path).name!r} is a symbolic link") from err
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFile(f"{Path(path).name!r} is not a regular file")
    return os.fdopen(fd, "rb")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def empty_file_key(name: str) -> str:
    """All empty files share one content hash; an empty delivery is told apart by its name instead."""
    return hashlib.sha256(b"empty file\0" + name.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class Snapshot:
    """A delivered file as read through one descriptor: its archive copy, hash, size and mtime."""

    stored: Path
    sha256: str
    size: int
    mtime: float
    fresh: bool = True  # False when the archive already held this content (a delivery seen before)


def take(path: Path, archive_dir: Path) -> Snapshot:
    """Read a delivered file once, through one `O_NOFOLLOW` descriptor, into the content-addressed archive
    (`<archive>/<sha[:2]>/<sha><ext>`, written once, atomically). Everything after this reads the archive
    copy: a link or another file put in the inbox path afterwards is never read."""
    private_dir(archive_dir)
    h = hashlib.sha256()
    with open_regular(path) as inp:
        st = os.fstat(inp.fileno())
        fd, tmp = tempfile.mkstemp(dir=archive_dir, prefix=".incoming-")
        try:
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: inp.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = h.hexdigest() if size else empty_file_key(Path(path).name)
            dest = archive_dir / sha[:2] / f"{sha}{_extension(Path(path).name)}"
            fresh = not dest.exists()
            if not fresh:
                Path(tmp).unlink()
            else:
                private_dir(dest.parent)
                os.chmod(tmp, 0o400)  # archived copies are read-only, and private like all data
                os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Snapshot(dest, sha, size, st.st_mtime, fresh)


def safe_name(name: str) -> str:
    """A delivered name reduced to one harmless path component (no directories, no dot-dot)."""
    base = re.split(r"[\\/]", name)[-1]
    base = _SAFE.sub("_", base).strip("._") or "file"
    return base[:150]


def _extension(name: str) -> str:
    ext = Path(safe_name(name)).suffix.lower()
    return ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext) else ""


def _atomic_copy(src: Path, dest: Path) -> None:
    """Copy through a temporary file (mode 0600 from its creation) renamed into place, then read-only for its
    owner: folders 0700, files 0400, nothing readable by other users of the machine."""
    private_dir(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            for chunk in iter(lambda: inp.read(1 << 20), b""):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o400)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def quarantine(
    src: Path, sha256: str, quarantine_dir: Path, month: str, report: dict[str, Any], *, name: str | None = None
) -> Path:
    """Copy a rejected file (its archive copy) to `<quarantine>/<YYYY-MM|unknown>/<name>` with
    `<name>.error.json`; `name` is the delivered name (default: the name of `src`)."""
    folder = quarantine_dir / month
    name = safe_name(name or src.name)
    dest = folder / name
    if dest.exists() and sha256_of(dest) != sha256:
        dest = folder / f"{sha256[:12]}_{name}"
    if not dest.exists():
        _atomic_copy(src, dest)
    report_path = dest.with_name(dest.name + ".error.json")
    tmp = report_path.with_name("." + report_path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    os.replace(tmp, report_path)
    return dest
