"""PDF rendering for issued documents: CJK text, the district's name, a verification QR code.

ReportLab (BSD, maintained since 2000, wheels on PyPI, no system libraries) lays the page out
with Platypus; its QR widget draws the code as vectors, so nothing else is needed. Chinese text
uses the PDF standard CID font ``STSong-Light`` (Adobe-GB1): it needs no font file, so a fresh
``pip install`` works with no system packages, the PDF stays a few KB, and every reader (Acrobat,
pdf.js, Chromium's PDFium, Poppler) draws it with its own Song/Ming face; text extraction works.
For archival copies that must carry their glyphs, pass ``font_path`` to a TrueType CJK font
(e.g. ``fonts-wqy-zenhei``'s ``.ttc``) and it is embedded (subset) instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from string import Formatter
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.services.errors import InvalidInput, lazy

CID_FONT = "STSong-Light"


@dataclass(frozen=True)
class DocumentTemplate:
    """A document's text with ``{name}`` placeholders: title, paragraphs, a table of fields
    (label, value), signature lines. Plugins define their own (certificate, agreement, receipt …)."""

    kind: str
    title: str
    paragraphs: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    signatures: tuple[str, ...] = ()
    closing: str = ""  # e.g. "特此证明。"

    def placeholders(self) -> set[str]:
        texts = [self.title, *self.paragraphs, *(v for _l, v in self.fields), self.closing]
        return {name for text in texts for _lit, name, _spec, _conv in Formatter().parse(text) if name}


@dataclass(frozen=True)
class Rendered:
    data: bytes
    title: str
    text: list[str] = field(default_factory=list)  # the filled-in paragraphs, for the record


def _font(font_path: Path | None) -> str:
    if font_path is None:
        if CID_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
        return CID_FONT
    name = f"liuzhi-{font_path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(font_path), subfontIndex=0))
    return name


def fill(template: DocumentTemplate, values: dict[str, Any]) -> dict[str, Any]:
    """The template's texts with ``values`` put in; a missing value is a clear error, not a blank."""
    missing = sorted(template.placeholders() - set(values))
    if missing:
        raise InvalidInput(lazy("The document needs a value for %(names)s."), names=", ".join(missing))
    safe = {k: "" if v is None else str(v) for k, v in values.items()}
    return {
        "title": template.title.format_map(safe),
        "paragraphs": [p.format_map(safe) for p in template.paragraphs],
        "fields": [(label, value.format_map(safe)) for label, value in template.fields],
        "closing": template.closing.format_map(safe),
    }


def render(
    template: DocumentTemplate,
    values: dict[str, Any],
    *,
    district: str,
    verify_url: str,
    verify_code: str,
    issued_at: datetime,
    rows: list[list[str]] | None = None,
    font_path: Path | None = None,
) -> Rendered:
    """Lay out one A4 document: district header, title, fields, paragraphs, an optional table
    (``rows``, the first one its header), signature lines, and the verification block."""
    filled = fill(template, values)
    font = _font(font_path)
    base = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    header = ParagraphStyle("header", parent=base, fontSize=11, alignment=TA_CENTER, firstLineIndent=0)
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER, firstLineIndent=0)
    plain = ParagraphStyle("plain", parent=base, firstLineIndent=0)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13, firstLineIndent=0)
    right = ParagraphStyle("right", parent=plain, alignment=TA_RIGHT)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story: list[Any] = [para(district, header), Spacer(1, 4 * mm), para(filled["title"], title), Spacer(1, 8 * mm)]
    if filled["fields"]:
        table = Table(
            [[para(label, plain), para(value, plain)] for label, value in filled["fields"]],
            colWidths=[40 * mm, 120 * mm],
        )
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 6 * mm)]
    story += [para(p, base) for p in filled["paragraphs"]]
    if rows:
        grid = Table([[para(str(c), small) for c in row] for row in rows], repeatRows=1)
        grid.setStyle(
            TableStyle(
                [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]
            )
        )
        story += [Spacer(1, 4 * mm), grid]
    if filled["closing"]:
        story += [Spacer(1, 4 * mm), para(filled["closing"], base)]
    story.append(Spacer(1, 10 * mm))
    for label in template.signatures:
        story.append(para(f"{label}（签名）：____________________", plain))
        story.append(Spacer(1, 4 * mm))
    story += [para(district, right), para(issued_at.strftime("%Y年%m月%d日"), right), Spacer(1, 10 * mm)]
    qr = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = qr.getBounds()
    size = 30 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    check = Table(
        [
            [
                drawing,
                para(f"扫码核验本文件 / Scan to verify\n核验码 Verification code：{verify_code}\n{verify_url}", small),
            ]
        ],
        colWidths=[35 * mm, 125 * mm],
    )
    check.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story.append(check)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=filled["title"],
        author=district,
        subject=template.kind,
        creator="Liuzhi",
    )
    doc.build(story)
    return Rendered(buf.getvalue(), filled["title"], [*filled["paragraphs"], filled["closing"]])
