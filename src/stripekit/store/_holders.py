"""Who holds a claim: this process, named so that a process on the same machine can tell
whether the holder still runs.

A worker killed in the middle of a delivery (kill -9, an OOM kill, a power cut)
leaves its event ``processing`` until the lease runs out, and Stripe's
retries meanwhile get 409. Each claim therefore records its holder::

    host | boot id | pid namespace | pid | process start time

and a later claim of the same event takes it over at once when the holder ran
on this machine and is gone: the machine rebooted since (another boot id), or
no process has that pid, or a different process does now (another start
time). A holder on another machine is waited for, until its lease ends.

The pid namespace keeps containers apart: two containers on one host may share
a hostname and pids, never a pid namespace.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = ["HOLDER_LENGTH", "current_holder", "holder_is_gone", "new_token"]

HOLDER_LENGTH = 255
"""The stores' column size for a holder."""

_SEPARATOR = "|"
_cache: tuple[int, str] | None = None
_tokens: tuple[int, str, Iterator[int]] | None = None


def current_holder() -> str:
    """This process, as a claim records it (computed once per process: a fork is another)."""
    global _cache
    pid = os.getpid()
    if _cache is None or _cache[0] != pid:
        host = socket.gethostname().replace(_SEPARATOR, "_")[:120]
        parts = (host, _boot_id(), _pid_namespace(), str(pid), _start_time(pid) or "")
        _cache = (pid, _SEPARATOR.join(parts)[:HOLDER_LENGTH])
    return _cache[1]


def new_token() -> str:
    """A claim token no other claim has had: 32 hex digits.

    A token proves who holds a claim; it is never shown to anyone, so it needs to
    be unique, not unguessable: 64 random bits drawn once per process (a fork
    draws its own), then a counter. ``secrets.token_hex`` per claim cost a
    system call on every delivery.
    """
    global _tokens
    pid = os.getpid()
    if _tokens is None or _tokens[0] != pid:
        _tokens = (pid, os.urandom(8).hex(), itertools.count())
    return f"{_tokens[1]}{next(_tokens[2]):016x}"


def holder_is_gone(holder: str | None) -> bool:
    """Whether the process that recorded ``holder`` surely no longer runs.

    False whenever that cannot be known (another machine, a holder recorded
    before this was kept, a platform without /proc): then the lease decides.
    """
    if not holder:
        return False
    parts = holder.split(_SEPARATOR)
    mine = current_holder().split(_SEPARATOR)
    if len(parts) != 5 or len(mine) != 5:
        return False
    host, boot, namespace, pid_text, started = parts
    if host != mine[0] or namespace != mine[2]:
        return False
    if boot and mine[1] and boot != mine[1]:
        return True  # the machine has rebooted since
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if (pid_text, started) == (mine[3], mine[4]):
        return False  # this very process
    if not _alive(pid):
        return True
    # The pid is taken: by the holder, or by a newer process that reused it.
    if bool(started) and _start_time(pid) not in (None, started):
        return True
    # A holder killed while its parent died too (a worker pool's process, kill -9 of the
    # whole group) is a zombie until init reaps it: dead all the same.
    return _state(pid) == "Z"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but a process
    except OSError:
        return True  # cannot tell: assume alive, the lease decides
    return True


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _state(pid: int) -> str | None:
    """The process's state letter (field 3 of /proc/<pid>/stat): R, S, D, Z..."""
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    return fields[0] if fields else None


def _start_time(pid: int) -> str | None:
    """The process's start, in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""
