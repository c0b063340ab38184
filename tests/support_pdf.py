"""Text read back from the PDFs the service renders, for comparing with what they should say."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    """Every page's text with white space removed, so that a field wrapped over lines still matches.

    pypdf reads fpdf2's two-byte glyph codes of a CFF font one byte at a time; the high byte
    comes out as U+0000 and is dropped with the white space (pdftotext reads them whole).
    """
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def compact(text: str) -> str:
    """`text` as `pdf_text` compares it."""
    return re.sub(r"\s+", "", text)
