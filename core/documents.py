"""Text out of the documents visitors upload: plain text, Markdown, PDF and Word files.

Every function returns clean text (through ``core.validation.read_text``, so the same
length and emptiness rules apply as for a paste) or raises ``InputError`` with a message
for the visitor. PDFs whose pages are only pictures (scans) are refused: there is no text
layer to read and this project does no OCR.
"""
from __future__ import annotations

import io
import zipfile
from typing import Callable

from core.validation import MAX_TEXT_CHARS, MB, InputError, _read_bytes, checked_suffix, read_text

MAX_DOCUMENT_BYTES = 20 * MB
DOCUMENT_TYPES = ["txt", "md", "pdf", "docx"]


def read_document(file_name: str, data: bytes, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The text of an uploaded .txt, .md, .pdf or .docx file, or ``InputError``.

    ``max_chars``: a caller that keeps only the opening of a document allows more.
    """
    suffix = checked_suffix(file_name, DOCUMENT_TYPES, f"Upload one of: {', '.join('.' + t for t in DOCUMENT_TYPES)}.")
    if suffix in ("txt", "md"):
        return read_text(data, max_chars)
    data = _read_bytes(data, MAX_DOCUMENT_BYTES, "document")
    return read_text(_EXTRACTORS[suffix](data), max_chars)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("This PDF is password-protected. Remove the protection and upload it again.")
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, OSError, KeyError):
        raise InputError("This file is not a PDF we can read (damaged or not really a PDF).") from None
    if not text.strip():
        raise InputError("This PDF has no text layer: it looks like a scan or pictures of pages. "
                         "Upload a PDF with selectable text, or paste the text.")
    return text


def _docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise InputError("This file is not a Word document we can read (.docx, damaged or renamed).") from None
    text = "\n\n".join(paragraph.text for paragraph in document.paragraphs)
    if not text.strip():
        raise InputError("This Word document has no text in its paragraphs.")
    return text


_EXTRACTORS: dict[str, Callable[[bytes], str]] = {"pdf": _pdf_text, "docx": _docx_text}
