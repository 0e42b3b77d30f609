"""The states of an output request and who may move it: one table, nothing else decides.

Each state is owned by one side. The author (a researcher of the project) gathers
outputs while a request is pending or returned, submits it and may withdraw it until
it is reviewed; the checkers (not in the project, never the author) vote while it is
submitted or partially reviewed, and may reject it; the system consolidates the votes
once enough are in (any "changes requested" returns the request to its author, all
approvals approve it); the office releases an approved request. Released, rejected
and withdrawn are final.
"""

from __future__ import annotations

from cohortsafe.errors import AccessError, ProjectError

__all__ = ["EDITABLE", "FINAL", "STATES", "TRANSITIONS", "next_states", "require"]

STATES = (
    "pending",
    "submitted",
    "partially_reviewed",
    "reviewed",
    "returned",
    "approved",
    "released",
    "rejected",
    "withdrawn",
)
FINAL = ("released", "rejected", "withdrawn")
EDITABLE = ("pending", "returned")  # the author may add and remove outputs

#: (state, action) → (who may act, the states it can lead to)
TRANSITIONS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("pending", "edit"): ("author", ("pending",)),
    ("returned", "edit"): ("author", ("returned",)),
    ("pending", "submit"): ("author", ("submitted",)),
    ("returned", "submit"): ("author", ("submitted",)),
    ("pending", "withdraw"): ("author", ("withdrawn",)),
    ("returned", "withdraw"): ("author", ("withdrawn",)),
    ("submitted", "withdraw"): ("author", ("withdrawn",)),
    ("partially_reviewed", "withdraw"): ("author", ("withdrawn",)),
    ("submitted", "vote"): ("checker", ("partially_reviewed", "reviewed")),
    ("partially_reviewed", "vote"): ("checker", ("partially_reviewed", "reviewed")),
    ("submitted", "reject"): ("checker", ("rejected",)),
    ("partially_reviewed", "reject"): ("checker", ("rejected",)),
    ("reviewed", "consolidate"): ("system", ("approved", "returned")),
    ("approved", "release"): ("office", ("released",)),
    ("approved", "return"): ("system", ("returned",)),  # the release-time check failed
}


def next_states(state: str, action: str) -> tuple[str, tuple[str, ...]]:
    """Who may take ``action`` in ``state``, and where it leads; refused when it cannot."""
    if state not in STATES:
        raise ProjectError(f"no request state {state!r}")
    found = TRANSITIONS.get((state, action))
    if found is None:
        raise ProjectError(f"a request that is {state.replace('_', ' ')} cannot be {_done(action)}")
    return found


def require(state: str, action: str, side: str, target: str | None = None) -> str:
    """The state ``action`` by ``side`` leads to (``target`` picks one of several)."""
    owner, targets = next_states(state, action)
    if side != owner:
        raise AccessError(
            f"only the {owner} may {action} a request that is {state.replace('_', ' ')}"
        )
    if target is None:
        if len(targets) != 1:
            raise ProjectError(f"{action}: say which of {', '.join(targets)}")
        return targets[0]
    if target not in targets:
        raise ProjectError(f"{action} leads to {', '.join(targets)}, not {target}")
    return target


def _done(action: str) -> str:
    return {
        "edit": "changed",
        "submit": "submitted",
        "withdraw": "withdrawn",
        "vote": "reviewed",
        "reject": "rejected",
        "consolidate": "consolidated",
        "release": "released",
        "return": "returned",
    }.get(action, action)
