"""Uploaded documents become text to summarise; files with no text to read get a message."""
import io

import docx
import pytest
from matplotlib.figure import Figure
from PIL import Image

from core.documents import read_document
from core.validation import InputError

ARTICLE = "The new bridge over the river opened on Monday. It links the old town with the north."


def pdf_with_text(text: str) -> bytes:
    """A real PDF with a text layer (matplotlib writes text as text)."""
    figure = Figure(figsize=(6, 2))
    figure.text(0.05, 0.5, text, fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """A PDF that is only a picture of a page, like a scan."""
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def word_document(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_plain_text_and_markdown_are_read_as_utf8():
    assert read_document("news.txt", "Мост открыт. Движение пошло.".encode()) == "Мост открыт. Движение пошло."
    assert "bridge" in read_document("NEWS.MD", b"# News\n\nThe bridge opened.")


def test_pdf_text_is_extracted():
    assert "bridge over the river" in read_document("article.pdf", pdf_with_text(ARTICLE))


def test_word_paragraphs_are_extracted():
    text = read_document("article.docx", word_document(["First paragraph.", "Second paragraph."]))
    assert text == "First paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize("name, data, message", [
    ("scan.pdf", scanned_pdf(), "no text layer"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a PDF we can read"),
    ("holiday.txt", bytes(range(256)) * 4, "looks binary"),
    ("report.docx", b"just some bytes, not a zip", "not a Word document"),
    ("slides.pptx", b"anything", "not supported"),
    ("empty.txt", b"", "empty"),
])
def test_files_without_readable_text_are_refused_with_a_message(name, data, message):
    with pytest.raises(InputError, match=message):
        read_document(name, data)
