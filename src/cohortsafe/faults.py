"""Named points where tests inject a crash, a failing commit or a full disk.

Production code calls ``faults.fault_point("step")`` through the module, so a
test can replace the function (``monkeypatch.setattr(faults, "fault_point", …)``)
or, to kill a child process at a step, have the replacement call ``os._exit``.
In normal runs it does nothing.
"""

from __future__ import annotations

__all__ = ["fault_point"]


def fault_point(step: str) -> None:
    """Where a fault can be injected in tests; does nothing in normal runs."""
