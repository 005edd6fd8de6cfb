"""PDF bytes to text with pypdfium2: every page in order, pages separated by a blank line."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from tracker.errors import InputError

PAGE_SEPARATOR = "\n\n"
NO_TEXT = "PDF has no text layer (scanned?); OCR is not supported"

# What pdfium's document-loading error codes mean to a user.
LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_FILE: "PDF cannot be read",
    pdfium_c.FPDF_ERR_FORMAT: "PDF is damaged or truncated",
    pdfium_c.FPDF_ERR_PASSWORD: "PDF is encrypted (needs a password)",
    pdfium_c.FPDF_ERR_SECURITY: "PDF uses an unsupported security handler",
}

# Control characters pdfium reports for soft hyphens, form feeds and unmapped glyphs.
JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def pdf_text(data: bytes, where: str) -> str:
    """The text of every page of the PDF in `data`, pages joined by a blank line."""
    try:
        document = pdfium.PdfDocument(bytes(data))
    except pdfium.PdfiumError as error:
        raise InputError(where, LOAD_ERRORS.get(error.err_code, f"PDF cannot be opened ({error})")) from None
    try:
        pages = [_page_text(document, index, where) for index in range(len(document))]
    finally:
        document.close()
    if not any(page.strip() for page in pages):
        raise InputError(where, NO_TEXT)
    return PAGE_SEPARATOR.join(pages)


def _page_text(document: pdfium.PdfDocument, index: int, where: str) -> str:
    try:
        page = document[index]
    except pdfium.PdfiumError as error:
        raise InputError(where, f"PDF page {index + 1} cannot be read ({error})") from None
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    except pdfium.PdfiumError as error:
        raise InputError(where, f"PDF page {index + 1} has unreadable text ({error})") from None
    finally:
        page.close()
    text = JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
