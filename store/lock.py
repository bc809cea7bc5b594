"""One process at a time on an embedded data file: an exclusive lock on a file next to it.

The embedded engine keeps its data in the process's memory; two processes on one data file
would each write their own copy over the other's. ``flock`` locks belong to the open file,
so the kernel releases them when the process ends, even by kill -9: no stale lock to clean.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def lock_path(data_file: Path) -> Path:
    return data_file.with_name(f"{data_file.name}.lock")


class DataFileInUse(Exception):
    """Another process holds the data file (a running server, or a command)."""

    def __init__(self, data_file: Path, holder: str) -> None:
        self.data_file = data_file
        self.holder = holder
        who = f"by {holder}" if holder else "by another process"
        super().__init__(f"{data_file} is in use {who}")


class DataLock:
    """Held from :meth:`acquire` until :meth:`release` or the end of the process."""

    def __init__(self, data_file: Path, fd: int) -> None:
        self.data_file = data_file
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_file: Path, purpose: str) -> DataLock:
        """Take the lock or raise :class:`DataFileInUse` at once (never waits)."""
        path = lock_path(data_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 500, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DataFileInUse(data_file, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{purpose} (pid {os.getpid()})\n".encode(), 0)
        return cls(data_file, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None
