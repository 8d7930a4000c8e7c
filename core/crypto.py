"""Encryption at rest: personal numbers in the database and every uploaded or generated file on
disk, under keys that come from the environment and never from the database or the code.

- Values (ID, bank account and phone numbers) are sealed with AES-256-GCM, a fresh nonce each
  time, and stored as ``<key id>:<base64>``: two equal numbers never look alike in the database.
- Exact search goes through a keyed hash (HMAC-SHA256, a separate key), the only thing an
  index can hold: it tells equal numbers apart from different ones and nothing else.
- Files are sealed in 64 KiB segments, each authenticated with its position and whether it is
  the last, so a file can be streamed and seeked without holding it whole in memory, and a
  truncated, reordered or altered file is refused rather than read.
- Keys rotate: the first key of ``ENCRYPTION_KEYS`` seals, every listed key opens; the first of
  ``SEARCH_HASH_KEYS`` hashes, every listed key is searched. ``manage.py rotate_keys``
  re-seals and re-hashes everything under the first keys, after which the old ones can go.

The cryptography is the ``cryptography`` package's; this module only picks the keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import struct
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE = 12
TAG = 16


class DecryptionFailed(Exception):
    """A value or file that no configured key opens, or that was altered."""


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:8]


def _decode(name: str, text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"Each key in {name} must be 32 bytes in URL-safe base64.")
    return key


@cache
def _sealing_keys(setting_value: tuple[str, ...]) -> tuple[tuple[str, AESGCM], ...]:
    keys = [_decode("ENCRYPTION_KEYS", k) for k in setting_value]
    return tuple((_key_id(k), AESGCM(k)) for k in keys)


def sealing_keys() -> tuple[tuple[str, AESGCM], ...]:
    if not settings.ENCRYPTION_KEYS:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty.")
    return _sealing_keys(tuple(settings.ENCRYPTION_KEYS))


@cache
def _hash_keys(setting_value: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(_decode("SEARCH_HASH_KEYS", k) for k in setting_value)


def hash_keys() -> tuple[bytes, ...]:
    if not settings.SEARCH_HASH_KEYS:
        raise ImproperlyConfigured("SEARCH_HASH_KEYS is empty.")
    return _hash_keys(tuple(settings.SEARCH_HASH_KEYS))


def new_key() -> str:
    """A fresh key for ENCRYPTION_KEYS or SEARCH_HASH_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def derived_key(secret: str, purpose: str) -> str:
    """A development key derived from the (development) SECRET_KEY; production sets its own."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --- values ---------------------------------------------------------------------------------


def seal(text: str) -> str:
    key_id, aead = sealing_keys()[0]
    nonce = os.urandom(NONCE)
    sealed = aead.encrypt(nonce, text.encode(), key_id.encode())
    return f"{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_sealed(stored: str) -> bool:
    return len(stored) > 9 and stored[8] == ":"


def _opener(key_id: str) -> AESGCM:
    for candidate, aead in sealing_keys():
        if candidate == key_id:
            return aead
    raise DecryptionFailed(f"sealed under key {key_id}, which is not in ENCRYPTION_KEYS")


def unseal(stored: str) -> str:
    if not is_sealed(stored):
        raise DecryptionFailed("not a sealed value")
    key_id, body = stored[:8], stored[9:]
    try:
        raw = base64.urlsafe_b64decode(body)
        return _opener(key_id).decrypt(raw[:NONCE], raw[NONCE:], key_id.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("the sealed value was altered") from exc


def sealed_under_current_key(stored: str) -> bool:
    return stored[:8] == sealing_keys()[0][0]


def digest(text: str, key: bytes | None = None) -> str:
    """The keyed hash under the current search key (or ``key``)."""
    key = key if key is not None else hash_keys()[0]
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def digests(text: str) -> list[str]:
    """The keyed hashes under every configured search key: what a search compares with, so
    rows not yet re-hashed after a rotation are still found."""
    return [digest(text, key) for key in hash_keys()]


# --- files ----------------------------------------------------------------------------------

MAGIC = b"CQRF1"
SEGMENT = 1 << 16
HEADER = len(MAGIC) + 8
SEALED_SEGMENT = NONCE + SEGMENT + TAG


def _segment_data(key_id: str, index: int, last: bool) -> bytes:
    return MAGIC + key_id.encode() + struct.pack(">Q?", index, last)


def seal_stream(source, sink) -> None:
    """Read plaintext from ``source`` and write it sealed to ``sink``, segment by segment."""
    key_id, aead = sealing_keys()[0]
    sink.write(MAGIC + key_id.encode())
    index = 0
    chunk = _read_full(source, SEGMENT)
    while True:
        following = _read_full(source, SEGMENT) if len(chunk) == SEGMENT else b""
        last = not following
        nonce = os.urandom(NONCE)
        sink.write(nonce)
        sink.write(aead.encrypt(nonce, chunk, _segment_data(key_id, index, last)))
        if last:
            return
        chunk, index = following, index + 1


def _read_full(source, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def is_sealed_file(head: bytes) -> bool:
    return head.startswith(MAGIC)


class OpenedFile(io.RawIOBase):
    """A sealed file read as its plaintext: seekable, one segment decrypted at a time."""

    def __init__(self, raw):
        self.raw = raw
        head = raw.read(HEADER)
        if len(head) != HEADER or not is_sealed_file(head):
            raise DecryptionFailed("not a sealed file")
        self.key_id = head[len(MAGIC) :].decode()
        self.aead = _opener(self.key_id)
        total = raw.seek(0, io.SEEK_END) - HEADER
        segments = max(1, -(-total // SEALED_SEGMENT))
        self.size = total - segments * (NONCE + TAG)
        self.segments = segments
        self.position = 0
        self.cached: tuple[int, bytes] | None = None

    def _segment(self, index: int) -> bytes:
        if self.cached and self.cached[0] == index:
            return self.cached[1]
        self.raw.seek(HEADER + index * SEALED_SEGMENT)
        sealed = self.raw.read(SEALED_SEGMENT)
        last = index == self.segments - 1
        try:
            plain = self.aead.decrypt(
                sealed[:NONCE], sealed[NONCE:], _segment_data(self.key_id, index, last)
            )
        except InvalidTag as exc:
            raise DecryptionFailed("the sealed file was altered or truncated") from exc
        self.cached = (index, plain)
        return plain

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer):
        if self.position >= self.size:
            return 0
        index, offset = divmod(self.position, SEGMENT)
        data = self._segment(index)[offset : offset + len(buffer)]
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def close(self):
        self.raw.close()
        super().close()
