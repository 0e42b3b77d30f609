"""Finishing what a killed command left half done, before the next command starts.

Two kinds of change span the registry and files, and each is recorded so that a
crash at any moment can be finished or undone exactly:

- a change of a school's LVS store (import, import removal): the store's
  ``pending.json`` holds a token that the registry stores in the same
  transaction; the change is completed when the registry holds the token and
  undone when it does not (:meth:`LvsStore.finish`);
- evidence of an objection: written before its objection is committed; a file
  no objection names is removed (:func:`~.evidence.sweep_evidence`);
- a package for the office (delivery, retraction, reinstatement): written under a
  hidden name, recorded with that name in ``pending_file``, then renamed. A
  record with ``pending_file`` set gets its rename; a hidden file without a
  record is removed from the output folder the next time a package is written
  there.

Recovery writes no audit event: it makes the registry and files agree with the
audited change, or with its absence.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cohortsafe import faults
from cohortsafe.app.school.models import Delivery, Reinstatement, Retraction, School, SentFile
from cohortsafe.app.school.services.evidence import sweep_evidence
from cohortsafe.config import load
from cohortsafe.files import fsync_dir
from cohortsafe.lvs import LvsStore

__all__ = ["aside", "cleared", "finish_interrupted", "publish", "recover_home", "sweep_aside"]

_ASIDE_SUFFIX = ".partial"
_SENT: tuple[type[SentFile], ...] = (Delivery, Retraction, Reinstatement)


def aside(final: Path) -> Path:
    """The hidden name a package is written under until its record is committed."""
    return final.with_name(f".{final.name}{_ASIDE_SUFFIX}")


def _final(hidden: Path) -> Path:
    return hidden.with_name(hidden.name[1:].removesuffix(_ASIDE_SUFFIX))


def publish(sent: SentFile, *, clear: bool = True) -> None:
    """Rename a recorded package from its hidden name to its own; then clear the note.

    With ``clear=False`` the caller clears the notes of many packages at once, after
    one :func:`fsync_dir` of their folder (:func:`cleared`): a note cleared before its
    rename is durable would hide a package that a power cut left hidden.
    """
    hidden = Path(sent.pending_file)
    final = _final(hidden)
    if hidden.exists():
        os.replace(hidden, final)
    faults.fault_point("package.published")
    if clear:
        fsync_dir(final.parent)
        type(sent).objects.filter(pk=sent.pk).update(pending_file="")


def cleared(model: type[SentFile], pks: list[int], folder: Path) -> None:
    """Clear the notes of packages published into ``folder`` without ``clear``."""
    if pks:
        fsync_dir(folder)
        model.objects.filter(pk__in=pks).update(pending_file="")


def sweep_aside(folder: Path) -> None:
    """Remove hidden packages in ``folder`` that no record names: a crash before the commit."""
    if not folder.is_dir():
        return
    recorded = {
        path
        for model in _SENT
        for path in model.objects.exclude(pending_file="").values_list("pending_file", flat=True)
    }
    for hidden in folder.glob(f".*{_ASIDE_SUFFIX}"):
        if str(hidden) not in recorded:
            with contextlib.suppress(FileNotFoundError):
                hidden.unlink()


def finish_interrupted(store: LvsStore) -> None:
    """Complete or undo every interrupted store change, and publish every recorded package."""
    for code, token in store.interrupted().items():
        committed = School.objects.filter(
            brin=code.brin, vestiging=code.vestiging, store_change=token
        ).exists()
        store.finish(code, committed=committed)
    for model in _SENT:
        for sent in model.objects.exclude(pending_file=""):
            publish(sent)


def recover_home() -> None:
    """Finish whatever a killed command left half done in the current home."""
    finish_interrupted(LvsStore(load().home / "lvs"))
    sweep_evidence()
