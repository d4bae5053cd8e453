"""Export any list to Excel (openpyxl, write-only so a large list streams in constant memory)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from litestar import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
    if value is None or isinstance(value, str | int | float | date):
        return value
    return str(value)


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        # A leading "=" would make Excel run the cell as a formula (CSV/formula injection).
        ws.append([("'" + v) if isinstance(v, str) and v[:1] in "=+-@" else _cell_value(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def excel_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response[bytes]:
    """``filename`` without extension; Chinese names are fine (RFC 5987 encoded)."""
    data = workbook_bytes(title, headers, rows)
    encoded = quote(f"{filename}.xlsx")
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{encoded}"},
    )
