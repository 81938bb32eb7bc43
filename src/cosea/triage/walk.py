"""Walking a source folder: every regular file once, in a stable order, without hanging.

Symbolic links are followed only while they stay inside the source (a link on seized
media must not lead the scan into the examiner's own disk); a link that loops, or
leads back to a folder being walked, is recorded and not followed. Named pipes,
sockets and devices are recorded, never opened (opening a FIFO blocks forever).
Folders that cannot be listed are recorded and skipped. The same walk serves the
scan, the folder manifest and ``verify``, so they always agree on what a source holds.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ErrorSink = Callable[[str, str, str], None]  # (path, kind, reason)


@dataclass(slots=True, frozen=True)
class Found:
    path: str  # absolute path as seen under the source (links not resolved)
    relative: str  # POSIX path relative to the source root
    size: int
    mtime_ns: int
    ctime_ns: int
    atime_ns: int


_SPECIAL = {
    stat.S_IFIFO: "named pipe (FIFO)",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_source(root: Path, on_error: ErrorSink) -> Iterator[Found]:
    """Regular files under ``root`` (a folder), sorted by name at each level."""
    top = os.path.abspath(root)
    real_top = os.path.realpath(top)
    try:
        top_stat = os.stat(top)
    except OSError as error:
        on_error(top, "unreadable-folder", f"cannot open the source folder: {error.strerror}")
        return
    # (logical folder path, real path, identities of the folders above it, depth)
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
        (top, real_top, frozenset({(top_stat.st_dev, top_stat.st_ino)}))
    ]
    while stack:
        folder, real_folder, ancestors = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except PermissionError as error:
            on_error(folder, "permission-denied", f"cannot list folder: {error.strerror}")
            continue
        except OSError as error:
            on_error(folder, "unreadable-folder", f"cannot list folder: {error.strerror}")
            continue
        subfolders: list[tuple[str, str, frozenset[tuple[int, int]]]] = []
        for entry in entries:
            path = entry.path
            try:
                is_link = entry.is_symlink()
                info = os.stat(path) if is_link else entry.stat(follow_symlinks=False)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    on_error(path, "symlink-loop", "symbolic link loop (too many levels of links)")
                elif is_link and error.errno == errno.ENOENT:
                    target = _readlink(path)
                    on_error(path, "broken-symlink", f"symbolic link to missing {target!r}")
                elif isinstance(error, PermissionError):
                    on_error(path, "permission-denied", f"cannot stat: {error.strerror}")
                else:
                    on_error(path, "unreadable", f"cannot stat: {error.strerror or error}")
                continue
            if is_link:
                real = os.path.realpath(path)
                if not _inside(real, real_top):
                    on_error(
                        path,
                        "symlink-outside-source",
                        f"symbolic link to {_readlink(path)!r} leaves the source; not followed",
                    )
                    continue
            mode = info.st_mode
            if stat.S_ISDIR(mode):
                identity = (info.st_dev, info.st_ino)
                if identity in ancestors:
                    on_error(
                        path,
                        "symlink-loop",
                        f"symbolic link {_readlink(path)!r} leads back to a folder above it; "
                        "not followed",
                    )
                    continue
                real = os.path.realpath(path) if is_link else os.path.join(real_folder, entry.name)
                subfolders.append((path, real, ancestors | {identity}))
            elif stat.S_ISREG(mode):
                yield Found(
                    path=path,
                    relative=os.path.relpath(path, top).replace(os.sep, "/"),
                    size=info.st_size,
                    mtime_ns=info.st_mtime_ns,
                    ctime_ns=info.st_ctime_ns,
                    atime_ns=info.st_atime_ns,
                )
            else:
                kind = _SPECIAL.get(stat.S_IFMT(mode), "special file")
                on_error(path, "not-regular-file", f"{kind}; not opened")
        # Depth first, in name order: push in reverse so the first name comes off first.
        stack.extend(reversed(subfolders))


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
