"""Uploads are refused by their size before their body is taken in, and scans are checked
whole (a PDF or an image that opens), not by their first bytes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: a request announcing more than ``UPLOAD_MAX_BYTES``
    is cut off before its body is read, and a file that grows past it while streaming is
    dropped (the form then says a file is missing or too large)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.UPLOAD_MAX_BYTES
        self.received = 0
        if content_length and content_length > self.limit:
            # Refused before a byte of the body is read: a 400, logged as suspicious.
            raise RequestDataTooBig("The upload is larger than UPLOAD_MAX_BYTES.")
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def is_whole_pdf(handle) -> bool:
    """A PDF that parses from start to end: its cross-reference table, its pages, and nothing
    but whitespace after its last %%EOF (an executable glued behind a PDF header fails)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    handle.seek(0)
    data = handle.read()
    handle.seek(0)
    end = data.rfind(b"%%EOF")
    if not data.startswith(b"%PDF-") or end < 0 or data[end + 5 :].strip():
        return False
    try:
        reader = PdfReader(handle, strict=True)
        return len(reader.pages) > 0 and all(page.mediabox is not None for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return False
    finally:
        handle.seek(0)


def is_whole_image(handle, kind: str) -> bool:
    """A PNG or JPEG that decodes completely, of the kind its name says."""
    from PIL import Image, UnidentifiedImageError

    handle.seek(0)
    try:
        with Image.open(handle) as image:
            if image.format != {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}[kind]:
                return False
            image.load()
        return True
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    finally:
        handle.seek(0)
