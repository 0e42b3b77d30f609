"""Worker processes end with the process that started them and never hold its output open."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

PARENT = """
import sys, time
from cohortsafe.app._parallel import ordered_map
print("started", flush=True)
for _ in ordered_map(time.sleep, [60.0] * 16):
    pass
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_workers_end_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    workers: list[int] = []
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline() == b"started\n"
        # the pool's workers (spawn also starts a resource tracker, which ends by itself)
        assert _wait(lambda: len(_children(parent.pid)) >= 2, 60)
        time.sleep(2)  # let the workers get to their items
        workers[:] = _children(parent.pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _wait(lambda: not any(_alive(w) for w in workers), 30), "a worker outlived it"
        # and nobody holds the pipe any more: reading it ends
        ready, _, _ = select.select([parent.stdout], [], [], 30)
        assert ready
        assert parent.stdout.read() == b""
    finally:
        parent.kill()
        for pid in workers + _children(parent.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        parent.communicate()
