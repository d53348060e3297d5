"""Real small disks for the tests of a full disk (issue 20): a tmpfs, or where tmpfs cannot
be mounted an ext4 image on a loop device; the tests that need one are skipped without."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def mount_small(folder: Path, size_kb: int) -> str | None:
    """Mount a fresh file system of ``size_kb`` KiB at ``folder``; why not, or None."""
    tmpfs = run("mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=755", "tmpfs", str(folder))
    if tmpfs.returncode == 0:
        return None
    image = folder.parent / f"{folder.name}.img"
    with open(image, "wb") as handle:
        handle.truncate(max(size_kb, 1024) * 1024)
    made = run("mkfs.ext4", "-q", "-m", "0", str(image))
    loop = run("mount", "-o", "loop", str(image), str(folder)) if made.returncode == 0 else made
    if loop.returncode == 0:
        return None
    return f"cannot mount a tmpfs ({tmpfs.stderr.strip()}) or a loop device ({loop.stderr.strip()})"


def fill(folder: Path) -> None:
    """Use up every free block of the file system at ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


@contextlib.contextmanager
def small_disk(folder: Path, size_kb: int = 1024) -> Iterator[Path]:
    """``folder`` (made here) mounted as a fresh file system of ``size_kb`` KiB while the
    block runs, unmounted after it; the test is skipped where none can be mounted."""
    folder.mkdir()
    why = mount_small(folder, size_kb)
    if why is not None:
        pytest.skip(why)
    try:
        yield folder
    finally:
        if run("umount", str(folder)).returncode != 0:
            run("umount", "-l", str(folder))
