"""The default file storage: every file under MEDIA_ROOT (scans, import files and their error
reports, exports, bank files) is sealed on disk and opened as its plain content."""

from __future__ import annotations

import io
import os
import tempfile

from django.core.files import File
from django.core.files.storage import FileSystemStorage

from . import crypto


class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        # Sealed into a scratch file first, then stored by the parent (which picks a free name
        # and moves the file into place); the plain content never reaches MEDIA_ROOT.
        if hasattr(content, "seek"):
            content.seek(0)
        scratch = self._sealed_copy(content)
        try:
            with open(scratch, "rb") as sealed:
                return super()._save(name, File(sealed, name=name))
        finally:
            if os.path.exists(scratch):
                os.unlink(scratch)

    def _sealed_copy(self, source) -> str:
        """A scratch file beside the stored ones holding ``source`` sealed; its path."""
        scratch = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed here, moved by the caller)
            dir=self._scratch_dir(), prefix=".sealing-", delete=False
        )
        with scratch:
            crypto.seal_stream(source, scratch)
        return scratch.name

    def _scratch_dir(self) -> str:
        os.makedirs(self.location, exist_ok=True)
        return self.location

    def _open(self, name, mode="rb"):
        return SealedFile(self, name, mode)

    def plain_stream(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Sealed files are written through save(), never opened for writing.")
        raw = open(self.path(name), "rb")  # noqa: SIM115 (owned by the returned stream)
        opened = io.BufferedReader(crypto.OpenedFile(raw), buffer_size=crypto.SEGMENT)
        return opened if "b" in mode else io.TextIOWrapper(opened, encoding="utf-8")

    def size(self, name):
        with open(self.path(name), "rb") as raw:
            return crypto.OpenedFile(raw).size

    def seal_plain(self, name) -> None:
        """Seal a file stored before encryption at rest was turned on."""
        with open(self.path(name), "rb") as plain:
            scratch = self._sealed_copy(plain)
        os.replace(scratch, self.path(name))

    def reseal(self, name) -> bool:
        """Seal a file again under the current key (key rotation); False if it already was."""
        with open(self.path(name), "rb") as raw:
            head = raw.read(crypto.HEADER)
        if head[len(crypto.MAGIC) :].decode() == crypto.sealing_keys()[0][0]:
            return False
        with self.open(name, "rb") as plain:
            scratch = self._sealed_copy(plain)
        os.replace(scratch, self.path(name))
        return True


class SealedFile(File):
    """A stored file read as its plain content; reopening reads it through the storage again
    (never the sealed bytes on disk)."""

    def __init__(self, storage: EncryptedFileSystemStorage, name: str, mode: str = "rb"):
        self.storage = storage
        self.mode = mode
        super().__init__(storage.plain_stream(name, mode), name=name)

    def open(self, mode=None):
        if not self.closed:
            self.seek(0)
        else:
            self.mode = mode or self.mode
            self.file = self.storage.plain_stream(self.name, self.mode)
        return self

    @property
    def size(self):
        return self.storage.size(self.name)
