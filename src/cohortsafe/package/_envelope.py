"""The encrypted envelope: HPKE wraps a fresh data key, AES-256-GCM encrypts the content in chunks.

Layout of a package file::

    MAGIC
    u32 length, header JSON   kind, suites, recipient key fingerprint, HPKE-wrapped data key
    (u32 length, chunk)*      AES-256-GCM, nonce = prefix ‖ counter ‖ last-flag,
                              AAD = SHA-256(magic ‖ header)

HPKE (RFC 9180, ML-KEM-768 + X25519) protects the 256-bit data key, so the
content is as safe against a future quantum computer as the KEM. Chunking
means a package of any size is written and read with one chunk in memory,
and the counter and last-flag in each nonce detect reordered, dropped or
truncated chunks. Every byte is authenticated: a flipped byte anywhere is
refused.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cohortsafe.errors import DecryptionError, IntegrityError
from cohortsafe.package._keys import ENCRYPTION_SUITE, KeyPair, PublicKey

MAGIC = b"COHORTSAFE-PACKAGE\n"
FORMAT = 1
STREAM = "AES-256-GCM/chunked-v1"
CHUNK_SIZE = 1 << 20
_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_MAX_HEADER = 64 * 1024
_TAG = 16


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def _info(header: dict[str, Any]) -> bytes:
    """What HPKE binds the data key to: every header field but the wrapped key itself."""
    bound = {k: v for k, v in header.items() if k != "wrapped_key"}
    return b"cohortsafe/package/v1\0" + json.dumps(bound, sort_keys=True).encode()


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that encrypts to ``recipient`` as it goes."""

    def __init__(self, sink: BinaryIO, recipient: PublicKey, kind: str) -> None:
        super().__init__()
        self._sink = sink
        self._key = AESGCM.generate_key(bit_length=256)
        self._prefix = os.urandom(7)
        header: dict[str, Any] = {
            "format": FORMAT,
            "kind": kind,
            "suite": ENCRYPTION_SUITE,
            "stream": STREAM,
            "chunk_size": CHUNK_SIZE,
            "recipient": recipient.fingerprint,
            "nonce_prefix": base64.b64encode(self._prefix).decode(),
        }
        wrapped = _SUITE.encrypt(self._key, recipient.hpke_key(), _info(header))
        header["wrapped_key"] = base64.b64encode(wrapped).decode()
        header_bytes = json.dumps(header, sort_keys=True).encode()
        self._aad = hashlib.sha256(MAGIC + header_bytes).digest()
        self._aead = AESGCM(self._key)
        self._buffer = bytearray()
        self._counter = 0
        sink.write(MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer.extend(data)
        while len(self._buffer) > CHUNK_SIZE:
            self._emit(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plain, self._aad)
        self._sink.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


@dataclass(frozen=True)
class Envelope:
    """A package's header, read before anything is decrypted."""

    header: dict[str, Any]
    aad: bytes

    @property
    def kind(self) -> str:
        return str(self.header.get("kind"))

    @property
    def recipient(self) -> str:
        return str(self.header.get("recipient"))


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if data is None or len(data) != size:
        raise IntegrityError("the package is truncated")
    return data


def read_envelope(source: BinaryIO) -> Envelope:
    if source.read(len(MAGIC)) != MAGIC:
        raise IntegrityError("not a cohortsafe package, or its first bytes were altered")
    (length,) = struct.unpack(">I", _read_exact(source, 4))
    if length > _MAX_HEADER:
        raise IntegrityError("the package header was altered")
    header_bytes = _read_exact(source, length)
    try:
        header = json.loads(header_bytes)
    except ValueError:
        raise IntegrityError("the package header was altered") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise IntegrityError("the package header was altered or has an unknown format")
    if header.get("suite") != ENCRYPTION_SUITE or header.get("stream") != STREAM:
        raise IntegrityError("the package uses an encryption suite this version does not know")
    return Envelope(header, hashlib.sha256(MAGIC + header_bytes).digest())


def decrypt_chunks(source: BinaryIO, envelope: Envelope, key: KeyPair) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise on any alteration or a foreign recipient."""
    header = envelope.header
    if envelope.recipient != key.public.fingerprint:
        raise DecryptionError(
            f"the package is encrypted to another office key ({envelope.recipient[:16]}…), "
            f"not to this one ({key.public.fingerprint[:16]}…)"
        )
    try:
        wrapped = base64.b64decode(str(header["wrapped_key"]))
        prefix = base64.b64decode(str(header["nonce_prefix"]))
        data_key = _SUITE.decrypt(wrapped, key.hpke_key(), _info(header))
    except (KeyError, ValueError, InvalidTag):
        raise IntegrityError("the package's key envelope was altered") from None
    if len(prefix) != 7 or len(data_key) != 32:
        raise IntegrityError("the package's key envelope was altered")
    aead = AESGCM(data_key)
    counter = 0
    while True:
        length_bytes = source.read(4)
        if len(length_bytes) != 4:
            raise IntegrityError("the package is truncated: its last part is missing")
        (length,) = struct.unpack(">I", length_bytes)
        if length < _TAG or length > CHUNK_SIZE + _TAG:
            raise IntegrityError(f"the package was altered (part {counter + 1})")
        sealed = _read_exact(source, length)
        try:
            plain = aead.decrypt(_nonce(prefix, counter, False), sealed, envelope.aad)
            last = False
        except InvalidTag:
            try:
                plain = aead.decrypt(_nonce(prefix, counter, True), sealed, envelope.aad)
                last = True
            except InvalidTag:
                raise IntegrityError(f"the package was altered (part {counter + 1})") from None
        counter += 1
        # checked before the last part is handed on: a reader may stop as soon as it has it
        if last and source.read(1):
            raise IntegrityError("the package was altered: bytes follow its last part")
        yield plain
        if last:
            return


class ChunkReader(io.RawIOBase):
    """Adapts the chunk iterator to a readable stream (for tarfile's streaming mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
