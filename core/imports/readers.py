"""Reading an uploaded CSV or Excel (.xlsx) file into numbered rows keyed by field name.

CSV bytes are decoded as UTF-8 (with or without BOM), else GB18030 (what Excel on a Chinese
Windows saves); anything else is refused with a clear message rather than imported as mojibake.
Headers are matched against Chinese and English aliases, so "姓名", "Name" and "name" all mean
``name``. Rows are streamed: a 20 MB file is never held as Python objects all at once.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.i18n import gettext as _

MAX_BYTES = 20 * 1024 * 1024
CSV, XLSX = "csv", "xlsx"
_HEADER_NOISE = re.compile(r"[\s_\-*＊:：()（）\[\]【】]")


class FileProblem(ValueError):
    """The file as a whole cannot be imported; ``str(exc)`` is a message for the page."""


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # how the column is headed in the template (Chinese), shown in messages
    aliases: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class Layout:
    """The columns one kind of import understands."""

    columns: tuple[Column, ...]

    def lookup(self) -> dict[str, str]:
        out = {}
        for col in self.columns:
            for alias in (col.field, col.label, *col.aliases):
                out[normalise_header(alias)] = col.field
        return out

    def label(self, field_name: str) -> str:
        return next(c.label for c in self.columns if c.field == field_name)


def normalise_header(text: str) -> str:
    """Case, spaces, underscores, brackets and required-markers ("姓名*") do not matter."""
    return _HEADER_NOISE.sub("", str(text).replace("\ufeff", "")).lower()


def file_type(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv"):
        return CSV
    if name.endswith(".xlsx"):
        return XLSX
    raise FileProblem(_("Only .csv and .xlsx files can be imported (an old .xls file: save it as .xlsx first)."))


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030; NUL bytes mean UTF-16 or a binary file, never text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise FileProblem(_not_text())
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileProblem(_not_text()) from exc


def _not_text() -> str:
    return _(
        "The file is not UTF-8 or GB18030 text. In Excel choose “Save as” → “CSV UTF-8”, "
        "or upload the .xlsx file itself."
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 1e15:
            # Past 15 digits Excel has already rounded the number (an ID number typed as a number):
            # show it as Excel does, so the row fails with a reason instead of with wrong digits.
            return f"{value:.15G}"
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Sheet:
    """An opened file: its header mapped to fields, and a way to stream its data rows."""

    kind: str
    headers: list[str]
    fields: list[str | None]  # per column: the field it feeds, or None (ignored)
    total: int | None = None  # data rows, when known without reading them all
    _text: str = ""
    _data: bytes = b""
    _dialect: Any = None
    ignored: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number as Excel shows it, {field: text}); blank rows are skipped."""
        raw = self._csv_rows() if self.kind == CSV else self._xlsx_rows()
        next(raw, None)  # the header
        for number, values in enumerate(raw, start=2):
            row = {f: (values[i].strip() if i < len(values) else "") for i, f in enumerate(self.fields) if f}
            if any(row.values()):
                yield number, row

    def count(self) -> int:
        if self.total is None:
            self.total = sum(1 for _row in self.rows())
        return self.total

    def _csv_rows(self) -> Iterator[list[str]]:
        yield from csv.reader(io.StringIO(self._text, newline=""), self._dialect)

    def _xlsx_rows(self) -> Iterator[list[str]]:
        wb = _open_workbook(self._data)
        try:
            ws = wb.worksheets[0]
            for values in ws.iter_rows(values_only=True):
                yield [_cell_text(v) for v in values]
        finally:
            wb.close()


def _open_workbook(data: bytes) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileProblem(_("The file is not a readable .xlsx workbook: save it again from Excel or WPS.")) from exc


def _sniff_dialect(text: str) -> Any:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def open_sheet(data: bytes, filename: str, layout: Layout) -> Sheet:
    """Read the header and check it; raises FileProblem (encoding, format, missing columns)."""
    kind = file_type(filename)
    if len(data) > MAX_BYTES:
        raise FileProblem(_("The file is too large: at most %(mb)s MB can be imported at once.", mb=MAX_BYTES >> 20))
    if not data.strip():
        raise FileProblem(_("The file is empty."))
    if kind == CSV:
        if data.startswith(b"PK\x03\x04"):
            raise FileProblem(_("This is an Excel workbook named .csv: rename it to .xlsx or save it as CSV."))
        text = decode_text(data)
        sheet = Sheet(kind, [], [], _text=text, _dialect=_sniff_dialect(text))
        total_guess = None
    else:
        wb = _open_workbook(data)
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            total_guess = (ws.max_row - 1) if ws is not None and ws.max_row else None
        finally:
            wb.close()
        sheet = Sheet(kind, [], [], _data=data)
    raw = sheet._csv_rows() if kind == CSV else sheet._xlsx_rows()
    try:
        header = next(raw, None)
    except csv.Error as exc:
        raise FileProblem(_("The CSV file cannot be read: %(reason)s", reason=str(exc))) from exc
    if not header or not any(h.strip() for h in header):
        raise FileProblem(_("The first row must hold the column names; it is empty."))
    _map_header(sheet, [h.strip() for h in header], layout)
    if kind == XLSX:
        sheet.total = total_guess  # from the sheet's dimension; recounted when absent
    return sheet


def _map_header(sheet: Sheet, header: list[str], layout: Layout) -> None:
    lookup = layout.lookup()
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for text in header:
        key = lookup.get(normalise_header(text)) if text else None
        if key is not None and key in seen:
            raise FileProblem(
                _(
                    "The columns “%(a)s” and “%(b)s” both mean %(label)s: keep one.",
                    a=seen[key],
                    b=text,
                    label=layout.label(key),
                )
            )
        if key is not None:
            seen[key] = text
        elif text:
            sheet.ignored.append(text)
        fields.append(key)
    missing = [c.label for c in layout.columns if c.required and c.field not in seen]
    if missing:
        expected = "、".join(c.label for c in layout.columns if c.required)
        raise FileProblem(
            _(
                "Required columns are missing: %(missing)s. The first row must name the columns "
                "(required: %(expected)s). Nothing was imported.",
                missing="、".join(missing),
                expected=expected,
            )
        )
    sheet.headers, sheet.fields = header, fields
