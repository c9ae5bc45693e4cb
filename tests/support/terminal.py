"""Running a program with its stderr on a real terminal (a pty), as a user would see it.

The pty has a window size (a terminal always has one; tqdm >= 4.70 draws nothing on a
0-column pty) and is raw, so `\\n` is not rewritten to `\\r\\n`: a `\\r` in what the terminal
received was drawn by the program itself.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading
import tty
from collections.abc import Mapping, Sequence
from pathlib import Path


def _read_all(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed its end
            return
        if not chunk:
            return
        into.append(chunk)


def on_terminal(
    argv: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None
) -> tuple[int, str, str]:
    """Run `argv` with stderr on the pty; return its exit code, stdout and what the
    terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    tty.setraw(slave)
    drawn: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(master, drawn))
    reader.start()
    try:
        proc = subprocess.run(
            list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=slave,
            text=True, timeout=240,
        )  # fmt: skip
    finally:
        os.close(slave)
        reader.join(timeout=60)
        os.close(master)
    return proc.returncode, proc.stdout, b"".join(drawn).decode(errors="replace")
