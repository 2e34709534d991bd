"""Files only their owner may read, replaced whole: the queue journal's compaction and the
client token (docs/desktop.md).

:func:`write_atomically` writes a temporary file in the same folder (created with mode 0600 by
``tempfile.mkstemp``, so no other user can read it at any moment), ``fsync``-s it, renames it
over the target with ``os.replace`` and ``fsync``-s the folder: after a crash the file is the old
one or the new one, complete. On Windows the mode bits mean little; the files live in the user's
own profile folders, which other users cannot read.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

TMP_PREFIX = ".pending-marks-"  # the queue's; also used for the token (a crash leaves one behind)


def write_atomically(path: Path, data: bytes, *, prefix: str = TMP_PREFIX) -> None:
    """Replace ``path`` with ``data``: the file is the old one or the new one, never half.
    The new file is readable and writable by its owner only (0600, from its creation)."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); not possible (nor needed) on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def readable_by_others(path: Path) -> bool:
    """The file's mode lets the group or other users read or write it (POSIX)."""
    if os.name == "nt":  # pragma: no cover - Windows: ACLs, not mode bits
        return False
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
