"""Hostile documents (zip bombs, XML entities, locked or endless PDFs) get a clear message, in
bounded time and memory; ordinary ones are still read. Every file is built here, small.

``hostile_documents()`` is the shared corpus (``bad_input_corpus.bad_documents``) that the
front-end tests upload."""
from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from typing import Callable

import docx
import pytest
from pypdf import PdfWriter

from bad_input_corpus import GENERIC_FAILURE
import core.documents as documents
from core.documents import read_document
from core.validation import MB, InputError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
RELATIONSHIPS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Target="{target}" Type="http://schemas.openxmlformats.org/'
                 'officeDocument/2006/relationships/officeDocument"/></Relationships>')
CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
PAGE_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
LOCKED = "This PDF is password-protected. Remove the protection and upload it again."
GENERIC = (*GENERIC_FAILURE, "Traceback")


# --- Word files -------------------------------------------------------------------------------

def word_xml(body: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
            f'<w:document xmlns:w="{W}" xmlns:mc="{MC}"><w:body>{body}</w:body></w:document>').encode()


def paragraphs_xml(*texts: str) -> str:
    return "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in texts)


def docx_file(document: bytes, *, main: str = "word/document.xml", rels: bytes | None = None,
              extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx: content types, the package relationships, the main part and ``extra``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", rels or RELATIONSHIPS.format(target=main).encode())
        archive.writestr(main, document)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def declaring(archive: bytes, name: str, file_size: int, compress_size: int | None = None) -> bytes:
    """``archive`` whose directory declares other sizes for ``name``: zipfile believes it."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        (name_length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46:at + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, at + 24, file_size)
            if compress_size is not None:
                struct.pack_into("<I", data, at + 20, compress_size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def spaces_docx(megabytes: int, head: bytes = b"") -> bytes:
    """word/document.xml is ``head`` and then ``megabytes`` MB of spaces (~1 KB a MB once packed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", RELATIONSHIPS.format(target="word/document.xml"))
        with archive.open("word/document.xml", "w") as member:
            member.write(head)
            for _ in range(megabytes):
                member.write(b" " * MB)
    return buffer.getvalue()


def zip_bomb_docx() -> bytes:
    return spaces_docx(64)  # 64 MB in 65 KB


def lying_size_docx() -> bytes:
    """word/document.xml declares 2 MB (a plausible 30:1) but inflates to 64 MB."""
    head = f'<w:document xmlns:w="{W}"><w:body>'.encode()
    return declaring(spaces_docx(64, head), "word/document.xml", 2 * MB)


def declared_4gb_docx() -> bytes:
    """The reported attack: a small file whose main part declares ~4 GB."""
    return declaring(docx_file(word_xml(paragraphs_xml("Hello."))), "word/document.xml", 0xF000_0000, 4 * MB)


def declared_25mb_docx() -> bytes:
    """A main part over the size cap, with an unremarkable 25:1 ratio."""
    return declaring(docx_file(word_xml(paragraphs_xml("Hello."))), "word/document.xml", 25 * MB, MB)


def many_parts_docx() -> bytes:
    parts = {f"{index:x}": b"" for index in range(documents.MAX_ARCHIVE_MEMBERS)}
    return docx_file(word_xml(paragraphs_xml("Hello.")), extra=parts)


BILLION_LAUGHS = ('<!DOCTYPE w:document [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10))
                  + "]>")


def billion_laughs_docx() -> bytes:
    return docx_file(word_xml(paragraphs_xml("&lol9;"), BILLION_LAUGHS))


def external_entity_docx() -> bytes:
    return docx_file(word_xml(paragraphs_xml("&secret;"), '<!DOCTYPE w:document [<!ENTITY secret SYSTEM '
                                                         '"file:///etc/passwd">]>'))


def external_entity_in_relationships_docx() -> bytes:
    rels = ('<?xml version="1.0"?><!DOCTYPE Relationships [<!ENTITY t SYSTEM "file:///etc/hostname">]>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="x/officeDocument" Target="&t;"/></Relationships>')
    return docx_file(word_xml(paragraphs_xml("Hello.")), rels=rels.encode())


def malformed_docx() -> bytes:
    return docx_file(word_xml("<w:p><w:r><w:t>Unclosed</w:r></w:p>"))


def spreadsheet_renamed_docx() -> bytes:
    workbook = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    return docx_file(workbook, main="xl/workbook.xml")


def old_word_file() -> bytes:
    """An OLE compound file: what .doc files and password-protected .docx files are."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


# --- PDF files --------------------------------------------------------------------------------

def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of ``objects`` (numbered from 1; 1 is the catalog) with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref))
    return out.getvalue()


def stream(data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)


def text_pdf(pages: int, content: bytes = b"BT /F1 12 Tf 10 10 Td (Page) Tj ET", trailer: bytes = b"",
             extra: list[bytes] | None = None) -> bytes:
    """``pages`` pages that all are one page object (objects 3-5), like a long repetitive report."""
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>",
                     b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b"3 0 R " * pages, pages),
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
                     b"/Resources << /Font << /F1 5 0 R >> >> >>",
                     stream(content), PAGE_FONT, *(extra or [])], trailer)


def slow_content(transforms: int) -> bytes:
    """A page's text and then ``transforms`` no-op operators (7 tokens each) for pypdf to parse."""
    return b"BT /F1 12 Tf 10 10 Td (Hi) Tj ET\n" + b"1 0 0 1 0 0 cm\n" * transforms


def page_tree_bomb() -> bytes:
    """Ten levels of ten kids that are all the same node: 10^10 pages in 2 KB."""
    levels = 10
    nodes = [b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b"%d 0 R " % (3 + level) * 10, 10 ** (levels - level))
             for level in range(levels)]
    page = 2 + levels
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", *nodes,
                     b"<< /Type /Page /MediaBox [0 0 200 200] /Contents %d 0 R "
                     b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page + 1, page + 2),
                     stream(b"BT /F1 12 Tf 10 10 Td (Page) Tj ET"), PAGE_FONT])


def cyclic_pdf() -> bytes:
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


def rc4_pdf(user_password: str = "secret") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def aes_pdf(bits: int) -> bytes:
    """An /Encrypt dictionary for AES (pypdf writes these only with the cryptography package).
    Its keys are random bytes: no password opens it, as a visitor's locked file without its password."""
    if bits == 128:
        encrypt = (b"<< /Filter /Standard /V 4 /R 4 /Length 128 /P -1084 /O <%s> /U <%s> /StmF /StdCF /StrF /StdCF"
                   b" /CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> >>" % (b"ab" * 32, b"cd" * 32))
    else:
        encrypt = (b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -1084 /O <%s> /U <%s> /OE <%s> /UE <%s>"
                   b" /Perms <%s> /StmF /StdCF /StrF /StdCF /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen"
                   b" /Length 32 >> >> >>" % (b"ab" * 48, b"cd" * 48, b"ef" * 32, b"12" * 32, b"34" * 16))
    return text_pdf(1, trailer=b"/Encrypt 6 0 R /ID [<%s> <%s>]" % (b"00" * 16, b"00" * 16), extra=[encrypt])


TOO_BIG = "too big inside to read safely"
CASES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "zip bomb (docx)": ("bomb.docx", zip_bomb_docx, TOO_BIG),
    "declares 4 GB (docx)": ("report.docx", declared_4gb_docx, TOO_BIG),
    "main part over the cap (docx)": ("thesis.docx", declared_25mb_docx, TOO_BIG),
    "too many parts (docx)": ("parts.docx", many_parts_docx, TOO_BIG),
    "sizes that lie (docx)": ("letter.docx", lying_size_docx, "not a Word document we can read"),
    "billion laughs (docx)": ("laughs.docx", billion_laughs_docx, "XML entity declarations"),
    "external entity (docx)": ("invoice.docx", external_entity_docx, "XML entity declarations"),
    "external entity in the relationships (docx)": ("memo.docx", external_entity_in_relationships_docx,
                                                    "XML entity declarations"),
    "malformed XML (docx)": ("notes.docx", malformed_docx, "not well-formed XML"),
    "spreadsheet renamed .docx": ("budget.docx", spreadsheet_renamed_docx, "not a Word document we can read"),
    "old .doc or locked .docx": ("minutes.docx", old_word_file, "password-protected or in the old .doc format"),
    "RC4 password (pdf)": ("statement.pdf", rc4_pdf, LOCKED),
    "RC4, owner password only (pdf)": ("brochure.pdf", lambda: rc4_pdf(""), LOCKED),
    "AES-128 password (pdf)": ("contract.pdf", lambda: aes_pdf(128), LOCKED),
    "AES-256 password (pdf)": ("payslip.pdf", lambda: aes_pdf(256), LOCKED),
    "10^10 pages (pdf)": ("endless.pdf", page_tree_bomb, "too complex to read here"),
    "page parsing bomb (pdf)": ("drawing.pdf", lambda: text_pdf(1, slow_content(60_000)), "too complex to read here"),
    "cyclic page tree (pdf)": ("loop.pdf", cyclic_pdf, "not a PDF we can read"),
}


def hostile_documents() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name as uploaded, bytes, a fragment of the message the visitor must see)."""
    return {name: (file_name, build(), message) for name, (file_name, build, message) in CASES.items()}


def outcome(read: Callable[[], str]) -> str:
    """What ``read`` returns, or the message it raises."""
    try:
        return read()
    except InputError as error:
        return str(error)


def timed(read: Callable[[], str]) -> tuple[str, float]:
    """``read``'s outcome and the CPU seconds it cost this thread: the work a document makes us do, which a
    busy machine (other tests, a training run) does not stretch as it stretches the wall clock."""
    start = time.thread_time()
    return outcome(read), time.thread_time() - start


def peak_memory(read: Callable[[], str]) -> tuple[str, float]:
    """``read``'s outcome and its peak Python memory in MB (tracemalloc slows it down a lot)."""
    tracemalloc.start()
    try:
        return outcome(read), tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


# --- tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_hostile_document_gets_its_message_quickly(name):
    file_name, build, message = CASES[name]
    data = build()
    assert len(data) < 200_000
    shown, seconds = timed(lambda: read_document(file_name, data))
    assert message in shown and not any(generic in shown for generic in GENERIC), shown
    assert seconds < 3, f"{seconds:.1f} CPU s"


@pytest.mark.parametrize("build", [zip_bomb_docx, lying_size_docx])
def test_zip_bomb_costs_bounded_memory(build):
    """Refused from the declared sizes, or read only up to them: never inflated whole (64 MB here)."""
    data = build()
    shown, peak = peak_memory(lambda: read_document("bomb.docx", data))
    assert "Word document" in shown
    assert peak < 10, f"{peak:.1f} MB"


def test_pdf_with_thousands_of_pages_is_read_to_the_page_budget():
    data = text_pdf(5000)
    assert len(data) < 100_000
    text, seconds = timed(lambda: read_document("long.pdf", data))
    assert text.split() == ["Page"] * documents.MAX_PDF_PAGES
    assert seconds < 2, f"{seconds:.1f} s"
    assert peak_memory(lambda: read_document("long.pdf", data))[1] < 50


def test_slow_pdf_stops_at_the_time_budget_with_what_it_read(monkeypatch):
    monkeypatch.setattr(documents, "MAX_PDF_SECONDS", 0.3)
    data = text_pdf(documents.MAX_PDF_PAGES, slow_content(20_000))  # ~0.3 s a page here
    start = time.monotonic()
    text = read_document("slow.pdf", data)
    assert 1 <= text.split().count("Hi") < 20
    assert time.monotonic() - start < 5


def test_too_complex_page_is_skipped_and_the_others_read():
    heavy = stream(slow_content(60_000))
    data = pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
                     b"/Resources << /Font << /F1 5 0 R >> >> >>", heavy, PAGE_FONT,
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 7 0 R "
                     b"/Resources << /Font << /F1 5 0 R >> >> >>", stream(b"BT /F1 12 Tf 10 10 Td (Second) Tj ET")])
    assert read_document("mixed.pdf", data).split() == ["Second"]


@pytest.mark.parametrize("name, data", [
    ("long.pdf", text_pdf(2000)),
    ("long.docx", docx_file(word_xml(paragraphs_xml(*["A sentence of some length, again and again."] * 5000)))),
])
def test_extraction_stops_once_the_text_is_too_long(name, data):
    shown, seconds = timed(lambda: read_document(name, data, max_chars=1000))
    assert shown == "The text is too long (more than 1,000 characters); the limit is 1,000."
    assert seconds < 1


def test_text_that_just_fits_is_kept():
    data = docx_file(word_xml(paragraphs_xml("a" * 10, "b" * 10)))
    assert read_document("fits.docx", data, max_chars=22) == "a" * 10 + "\n\n" + "b" * 10
    with pytest.raises(InputError, match="too long"):
        read_document("fits.docx", data, max_chars=21)


def test_word_text_matches_python_docx():
    document = docx.Document()
    document.add_paragraph("Plain paragraph.")
    mixed = document.add_paragraph("Runs ")
    mixed.add_run("in bold").bold = True
    mixed.add_run("\tafter a tab\nand a line break.")
    document.add_paragraph("")
    document.add_paragraph("Last one, in Russian: мост открыт.")
    buffer = io.BytesIO()
    document.save(buffer)
    expected = "\n\n".join(paragraph.text for paragraph in docx.Document(io.BytesIO(buffer.getvalue())).paragraphs)
    assert read_document("mixed.docx", buffer.getvalue()) == expected


def test_word_marks_text_boxes_and_tables():
    body = (f"<w:p><w:r><w:t xml:space='preserve'>Before </w:t></w:r><w:r><w:tab/><w:t>tab</w:t>"
            f"<w:br w:type='page'/><w:noBreakHyphen/><w:br/><w:t>end</w:t></w:r>"
            f"<w:r><mc:AlternateContent><mc:Choice><w:txbxContent>{paragraphs_xml('boxed')}</w:txbxContent>"
            f"</mc:Choice><mc:Fallback><w:t>old</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"
            f"<w:tbl><w:tr><w:tc>{paragraphs_xml('cell')}</w:tc></w:tr></w:tbl>")
    assert read_document("marks.docx", docx_file(word_xml(body))) == "Before \ttab-\nend\n\ncell"


def test_main_part_is_found_through_the_relationships():
    data = docx_file(word_xml(paragraphs_xml("Elsewhere.")), main="word/document2.xml")
    assert read_document("moved.docx", data) == "Elsewhere."


def test_ordinary_documents_are_still_read():
    assert read_document("a.docx", docx_file(word_xml(paragraphs_xml("One.", "Two.")))) == "One.\n\nTwo."
    assert read_document("a.pdf", text_pdf(3)).split() == ["Page"] * 3
