"""What a school may keep as evidence of an objection: a scan, a photo or an e-mail.

The evidence stays at the school: no delivery reads it. It is checked by its content,
not only its name, so a web page renamed ``.pdf`` is refused and a download can be given
a fixed content type: nothing uploaded is ever shown as a page in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from cohortsafe.errors import UsageError

__all__ = ["ACCEPTED", "EVIDENCE_LIMIT", "EvidenceKind", "evidence_kind", "stored_kind"]

#: A scanned letter of several pages fits easily; anything larger is not evidence.
EVIDENCE_LIMIT = 10 * 2**20


@dataclass(frozen=True)
class EvidenceKind:
    """A kind of file accepted as evidence: its stored suffix and the type it is served as."""

    suffix: str
    content_type: str


_PDF = EvidenceKind("pdf", "application/pdf")
_PNG = EvidenceKind("png", "image/png")
_JPEG = EvidenceKind("jpg", "image/jpeg")
_TEXT = EvidenceKind("txt", "text/plain; charset=utf-8")
_MAIL = EvidenceKind("eml", "message/rfc822")

#: Name endings and the kind each must be.
_BY_SUFFIX = {
    ".pdf": _PDF,
    ".png": _PNG,
    ".jpg": _JPEG,
    ".jpeg": _JPEG,
    ".txt": _TEXT,
    ".eml": _MAIL,
}
_MAGIC = {_PDF: (b"%PDF-",), _PNG: (b"\x89PNG\r\n\x1a\n",), _JPEG: (b"\xff\xd8\xff",)}
ACCEPTED = ", ".join(sorted(_BY_SUFFIX))


def evidence_kind(name: str, data: bytes) -> EvidenceKind:
    """The kind of the file ``name`` holding ``data``; refused unless both agree.

    The message names what is accepted, never the file's name or content.
    """
    lowered = name.lower()
    kind = next((k for suffix, k in _BY_SUFFIX.items() if lowered.endswith(suffix)), None)
    if kind is None:
        raise UsageError(f"evidence must be one of {ACCEPTED}")
    if not data:
        raise UsageError("the evidence file is empty")
    if len(data) > EVIDENCE_LIMIT:
        raise UsageError(f"the evidence file is larger than {EVIDENCE_LIMIT // 2**20} MB")
    if kind in _MAGIC:
        if not data.startswith(_MAGIC[kind]):
            raise UsageError(f"the evidence file is not the {kind.suffix.upper()} its name says")
        return kind
    if b"\x00" in data:
        raise UsageError("the evidence file is not text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the evidence file is not text in UTF-8") from None
    return kind


def stored_kind(name: str) -> EvidenceKind:
    """The kind of a file kept under a name :func:`evidence_kind` chose the suffix of."""
    return _BY_SUFFIX["." + name.rsplit(".", 1)[-1]]
