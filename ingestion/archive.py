"""The immutable, content-addressed archive and the quarantine folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ntp.settings import private_dir

_SAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def archive(src: Path, sha256: str, archive_dir: Path) -> Path:
    """Copy into `<archive>/<sha[:2]>/<sha><ext>` once; a second call with the same content is a no-op."""
    dest = archive_dir / sha256[:2] / f"{sha256}{_extension(src.name)}"
    if not dest.exists():
        _atomic_copy(src, dest)
    return dest


def quarantine(src: Path, sha256: str, quarantine_dir: Path, month: str, report: dict[str, Any]) -> Path:
    """Copy a rejected file to `<quarantine>/<YYYY-MM|unknown>/<name>` with `<name>.error.json`."""
    folder = quarantine_dir / month
    name = safe_name(src.name)
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
