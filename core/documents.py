"""Text out of the documents visitors upload: plain text, Markdown, PDF and Word files.

Every function returns clean text (through ``core.validation.read_text``, so the same
length and emptiness rules apply as for a paste) or raises ``InputError`` with a message
for the visitor. PDFs whose pages are only pictures (scans) are refused: there is no text
layer to read and this project does no OCR.

Uploads may be hostile, so every read has a budget. A .docx is a zip archive: its directory
is checked (number of parts, declared sizes, compression ratios) before anything is inflated,
and its text is streamed out of ``word/document.xml`` by expat, refusing any DOCTYPE, so no
entity is ever expanded. A PDF gets its first ``MAX_PDF_PAGES`` pages read, for at most
``MAX_PDF_SECONDS``, and a page whose content would take too long to parse is skipped.
"""
from __future__ import annotations

import io
import posixpath
import time
import zipfile
from typing import TYPE_CHECKING, Callable
from xml.parsers import expat

from core.validation import MAX_TEXT_CHARS, MB, InputError, _read_bytes, checked_suffix, read_text

if TYPE_CHECKING:
    from pypdf import PdfReader

MAX_DOCUMENT_BYTES = 20 * MB
DOCUMENT_TYPES = ["txt", "md", "pdf", "docx"]

MAX_ARCHIVE_MEMBERS = 2_000  # a Word file has ~15 parts, plus one per picture
MAX_ARCHIVE_UNPACKED_BYTES = 200 * MB  # declared, all parts together (pictures barely compress)
MAX_COMPRESSION_RATIO = 100  # Word's XML packs ~10:1; deflate reaches ~1000:1 on repeated bytes only
MAX_WORD_XML_BYTES = 20 * MB  # word/document.xml, declared and read
MAX_RELATIONSHIPS_BYTES = 1 * MB  # _rels/.rels, which names the main part
MAX_PDF_PAGES = 300  # callers keep only a document's opening
MAX_PDF_SECONDS = 4.0  # checked between pages: one more page (under a second) keeps a read under 5 s
MAX_PDF_PAGE_TOKENS = 300_000  # per content stream: ~100x a dense page of text, under a second to parse
MAX_PDF_TREE_NODES = 20_000  # pages and page-tree nodes pypdf lists, all of them, before reading one

PDF_LOCKED = "This PDF is password-protected. Remove the protection and upload it again."
PDF_DAMAGED = "This file is not a PDF we can read (damaged or not really a PDF)."
PDF_NO_TEXT = ("This PDF has no text layer: it looks like a scan or pictures of pages. "
               "Upload a PDF with selectable text, or paste the text.")
PDF_TOO_COMPLEX = ("This PDF is too complex to read here (its pages or structure go beyond our safety limits). "
                   "Upload a simpler PDF, or paste the text.")
WORD_UNREADABLE = "This file is not a Word document we can read (.docx, damaged or renamed)."
WORD_LOCKED_OR_OLD = ("This Word file is password-protected or in the old .doc format. "
                      "Remove the password or save it as .docx, and upload it again.")
WORD_ENTITIES = ("This Word document contains XML entity declarations (a DOCTYPE), which real Word files "
                 "never have, so it was refused for safety.")
WORD_MALFORMED = ("This Word document is damaged: its text is not well-formed XML. "
                  "Open it in Word, save it again and upload it.")
WORD_NO_TEXT = "This Word document has no text in its paragraphs."

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc files and encrypted .docx files alike
_ZIP_CENTRAL_ENTRY = b"PK\x01\x02"  # opens every entry of a zip's directory
_RATIO_GRACE_BYTES = 1 * MB  # smaller parts may pack as tightly as they like: they cost nothing
_READ_CHUNK = 1 * MB
_WORD_NAMESPACES = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
                    "http://purl.oclc.org/ooxml/wordprocessingml/main")  # transitional and strict OOXML
_COMPATIBILITY_NAMESPACE = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_RUN_MARKS = {"tab": "\t", "ptab": "\t", "cr": "\n", "noBreakHyphen": "-"}  # as python-docx's Run.text


def read_document(file_name: str, data: bytes, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The text of an uploaded .txt, .md, .pdf or .docx file, or ``InputError``.

    ``max_chars``: a caller that keeps only the opening of a document allows more. Extraction
    stops as soon as the text passes it. A PDF longer than ``MAX_PDF_PAGES`` pages, or slower
    to read than ``MAX_PDF_SECONDS``, gives the text of the pages read so far and says nothing
    of the rest: callers keep only the opening anyway.
    """
    suffix = checked_suffix(file_name, DOCUMENT_TYPES, f"Upload one of: {', '.join('.' + t for t in DOCUMENT_TYPES)}.")
    if suffix in ("txt", "md"):
        return read_text(data, max_chars)
    data = _read_bytes(data, MAX_DOCUMENT_BYTES, "document")
    return read_text(_EXTRACTORS[suffix](data, max_chars), max_chars)


def _too_long(max_chars: int) -> InputError:
    return InputError(f"The text is too long (more than {max_chars:,} characters); the limit is {max_chars:,}.")


# --- PDF ------------------------------------------------------------------------------------

def _pdf_text(data: bytes, max_chars: int) -> str:
    from pypdf import apply_configuration
    from pypdf.errors import LimitReachedError

    try:
        with apply_configuration(stream_parsing_work_maximum_count=MAX_PDF_PAGE_TOKENS,
                                 page_tree_maximum_entries=MAX_PDF_TREE_NODES):
            pages, complete = _first_pages_text(_open_pdf(data), max_chars)
    except InputError:
        raise
    except LimitReachedError:  # pypdf's own bounds on the page tree, cross references, streams
        raise InputError(PDF_TOO_COMPLEX) from None
    except Exception:  # a hostile file reaches whatever pypdf can raise
        raise InputError(PDF_DAMAGED) from None
    text = "\n\n".join(pages)
    if not text.strip():
        raise InputError(PDF_NO_TEXT if complete else PDF_TOO_COMPLEX)
    return text


def _open_pdf(data: bytes) -> PdfReader:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception:
        # Opening tries the empty password, and AES-256 needs the cryptography package (not
        # installed); public-key security is unsupported: an /Encrypt file that fails is locked.
        if b"/Encrypt" in data:
            raise InputError(PDF_LOCKED) from None
        raise
    if reader.is_encrypted:  # an empty user password too: refused before any page is decrypted
        raise InputError(PDF_LOCKED)
    return reader


def _first_pages_text(reader: PdfReader, max_chars: int) -> tuple[list[str], bool]:
    """The text of the first pages within the page, time and character budgets, and whether
    every page tried gave its text (not when one was too complex or the time ran out)."""
    from pypdf.errors import LimitReachedError

    deadline = time.monotonic() + MAX_PDF_SECONDS
    texts: list[str] = []
    chars = 0
    complete = True
    for page in reader.pages[:MAX_PDF_PAGES]:
        if time.monotonic() > deadline:
            return texts, False
        try:
            text = page.extract_text() or ""
        except LimitReachedError:  # a detailed drawing, or a hostile page: its text is left out
            complete = False
            continue
        chars += len(text) + 2 * bool(texts)  # and the blank line between pages
        texts.append(text)
        if chars > max_chars:
            raise _too_long(max_chars)
    return texts, complete


# --- Word -----------------------------------------------------------------------------------

def _docx_text(data: bytes, max_chars: int) -> str:
    if data.startswith(_OLE_SIGNATURE):
        raise InputError(WORD_LOCKED_OR_OLD)
    # zipfile reads the whole directory up front (250,000 entries fit in 20 MB: seconds and
    # 190 MB); every entry opens with this signature, so counting it bounds them beforehand.
    if data.count(_ZIP_CENTRAL_ENTRY) > MAX_ARCHIVE_MEMBERS:
        raise _too_big(f"more than {MAX_ARCHIVE_MEMBERS:,} parts")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_declared_sizes(archive.infolist())
            words = _WordText(max_chars)
            _parse_member(words.parser(), archive, _main_part(archive), MAX_WORD_XML_BYTES)
    except InputError:
        raise
    except expat.ExpatError:
        raise InputError(WORD_MALFORMED) from None
    except Exception:  # not a zip, a missing part, an unsupported compression, a bad checksum...
        raise InputError(WORD_UNREADABLE) from None
    text = "\n\n".join(words.paragraphs)
    if not text.strip():
        raise InputError(WORD_NO_TEXT)
    return text


def _too_big(detail: str) -> InputError:
    return InputError(f"This Word document is too big inside to read safely ({detail}). "
                      "Upload a shorter version, or paste the text.")


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip bomb from the sizes its directory declares, before anything is inflated."""
    total = sum(member.file_size for member in members)
    if total > MAX_ARCHIVE_UNPACKED_BYTES:
        raise _too_big(f"{total / MB:,.0f} MB unpacked in all; the limit is {MAX_ARCHIVE_UNPACKED_BYTES / MB:.0f} MB")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_GRACE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise _too_big(f"{member.filename} is compressed {ratio:,.0f} to 1")


def _main_part(archive: zipfile.ZipFile) -> str:
    """The archive name of the main document, as the package's relationships name it
    (usually word/document.xml)."""
    targets: list[str] = []

    def relationship(name: str, attributes: dict[str, str]) -> None:
        if attributes.get("Type", "").endswith("/officeDocument"):
            targets.append(attributes.get("Target", ""))

    parser = _xml_parser()
    parser.StartElementHandler = relationship
    _parse_member(parser, archive, "_rels/.rels", MAX_RELATIONSHIPS_BYTES)
    if not targets:
        raise InputError(WORD_UNREADABLE)
    return posixpath.normpath(targets[0].lstrip("/"))


def _xml_parser() -> expat.XMLParserType:
    """An expat parser that refuses any DOCTYPE: entities can only be declared in one, so
    none (billion laughs, external files) is ever expanded or fetched."""
    def refuse(*_: object) -> None:
        raise InputError(WORD_ENTITIES)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = refuse
    parser.buffer_text = True  # one call for a run's text, not one per line or entity
    return parser


def _parse_member(parser: expat.XMLParserType, archive: zipfile.ZipFile, name: str, max_bytes: int) -> None:
    """Stream one archive member through ``parser``: its declared size is checked first, and
    at most ``max_bytes + 1`` bytes are inflated, since the declared size can lie."""
    info = archive.getinfo(name)
    if info.file_size > max_bytes:
        raise _too_big(f"{name} unpacks to {info.file_size / MB:,.0f} MB; the limit is {max_bytes / MB:.0f} MB")
    read = 0
    with archive.open(info) as member:
        while chunk := member.read(min(_READ_CHUNK, max_bytes + 1 - read)):
            read += len(chunk)
            if read > max_bytes:
                raise _too_big(f"{name} unpacks to more than {max_bytes / MB:.0f} MB")
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


class _WordText:
    """expat handlers that collect the paragraphs of word/document.xml as python-docx's
    ``Paragraph.text`` reads them (text runs, tabs, line breaks), tables' paragraphs included."""

    def __init__(self, max_chars: int) -> None:
        self.paragraphs: list[str] = []
        self._runs: list[str] = []
        self._max_chars = max_chars
        self._chars = 0
        self._root_seen = False
        self._paragraph_depth = 0  # a text box puts paragraphs in a paragraph: only outer ones are read
        self._fallback_depth = 0  # mc:Fallback repeats its mc:Choice for older readers
        self._in_text = False

    def parser(self) -> expat.XMLParserType:
        parser = _xml_parser()
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        return parser

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, tag = name.rpartition(" ")
        if not self._root_seen:  # a spreadsheet or slides renamed .docx
            self._root_seen = True
            if namespace not in _WORD_NAMESPACES or tag != "document":
                raise InputError(WORD_UNREADABLE)
        if namespace == _COMPATIBILITY_NAMESPACE and tag == "Fallback":
            self._fallback_depth += 1
        if namespace not in _WORD_NAMESPACES or self._fallback_depth:
            return
        if tag == "p":
            self._paragraph_depth += 1
        elif self._paragraph_depth == 1:
            if tag == "t":
                self._in_text = True
            elif tag == "br":  # page and column breaks are not text
                if attributes.get(f"{namespace} type", "textWrapping") == "textWrapping":
                    self._add("\n")
            elif tag in _RUN_MARKS:
                self._add(_RUN_MARKS[tag])

    def _end(self, name: str) -> None:
        namespace, _, tag = name.rpartition(" ")
        if namespace == _COMPATIBILITY_NAMESPACE and tag == "Fallback":
            self._fallback_depth -= 1
        if namespace not in _WORD_NAMESPACES or self._fallback_depth:
            return
        if tag == "t":
            self._in_text = False
        elif tag == "p":
            self._paragraph_depth -= 1
            if self._paragraph_depth == 0:
                if self.paragraphs:
                    self._count(2)  # the blank line between paragraphs
                self.paragraphs.append("".join(self._runs))
                self._runs = []

    def _text(self, data: str) -> None:
        if self._in_text:
            self._add(data)

    def _add(self, text: str) -> None:
        self._count(len(text))
        self._runs.append(text)

    def _count(self, chars: int) -> None:
        self._chars += chars
        if self._chars > self._max_chars:
            raise _too_long(self._max_chars)


_EXTRACTORS: dict[str, Callable[[bytes, int], str]] = {"pdf": _pdf_text, "docx": _docx_text}
