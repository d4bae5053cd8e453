"""Open311 GeoReport v2 serialisation: the spec's documents as XML and as JSON, and its dates.

Pure functions, no database and no request: routes/open311.py gathers the rows, this module
shapes them. A document is built once as plain Python values (dicts, lists, strings, numbers,
None) and written in either format by the same rules:

- JSON is the value itself. The spec's list documents (services, service_requests, errors …) are
  top-level arrays.
- XML wraps a list in its root element and each item in the item element the spec names
  (``<service_requests><request>…``); nested lists use ``LIST_ITEMS`` (``<attributes><attribute>``,
  ``<values><value>``, ``<formats><format>``). None is an empty element, booleans are
  ``true``/``false``. The declaration says ``encoding="UTF-8"`` as the spec asks.

Statuses: GeoReport knows ``open`` and ``closed``; FixMyStreet's updates extension knows more
(``FMS_STATUS``), in capitals as its clients expect.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FMS_SPECIFICATION = "https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311"
LIST_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}

# Lifecycle states (lifecycle.State values) → GeoReport status.
FINAL_STATES = frozenset({"closed", "rejected", "merged"})
# … → FixMyStreet's extended statuses, for servicerequestupdates.
FMS_STATUS = {
    "reported": "OPEN",
    "accepted": "INVESTIGATING",
    "registered": "ACTION_SCHEDULED",
    "dispatched": "ACTION_SCHEDULED",
    "signed": "ACTION_SCHEDULED",
    "parked": "ACTION_SCHEDULED",
    "handling": "IN_PROGRESS",
    "feedback": "IN_PROGRESS",
    "inspecting": "IN_PROGRESS",
    "inspected": "IN_PROGRESS",
    "closed": "FIXED",
    "rejected": "NO_FURTHER_ACTION",
    "merged": "DUPLICATE",
}


class BadDate(ValueError):
    """A date parameter that is not ISO 8601 / W3C."""


def status_of(state: str) -> str:
    return "closed" if state in FINAL_STATES else "open"


def fms_status(state: str) -> str:
    return FMS_STATUS.get(state, "OPEN" if status_of(state) == "open" else "CLOSED")


def iso(value: datetime | None, tz: tzinfo) -> str | None:
    """``2026-11-25T09:00:00+08:00``: seconds, with the district's offset (never naive)."""
    if value is None:
        return None
    return value.astimezone(tz).replace(microsecond=0).isoformat()


def parse_datetime(raw: str | None, tz: tzinfo, *, end: bool = False) -> datetime | None:
    """A W3C date-time (``Z`` or an offset; without one, the district's time) or a plain date
    (its start, or its end when ``end``). Empty → None; anything else → ``BadDate``."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().replace(" ", "+") if "T" in raw else raw.strip()  # a "+" unescaped in a query
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=tz)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadDate(raw) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def number(value: Any) -> float | None:
    return None if value is None else float(value)


# ---- documents ---------------------------------------------------------------------------------


def discovery(url: str, changeset: datetime, tz: tzinfo, contact: str, key_service: str) -> dict[str, Any]:
    when = iso(changeset, tz)
    return {
        "changeset": when,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": when,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(code: str, name: str, description: str, group: str, keywords: str = "") -> dict[str, Any]:
    return {
        "service_code": code,
        "service_name": name,
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": keywords,
        "group": group,
    }


def attribute(
    code: str,
    datatype: str,
    description: str,
    order: int,
    *,
    required: bool = False,
    datatype_description: str = "",
    values: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variable": True,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": datatype_description or None,
        "order": order,
        "description": description,
    }
    values = list(values)
    if values:
        out["values"] = [{"key": key, "name": name} for key, name in values]
    return out


def service_definition(code: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"service_code": code, "attributes": attributes}


def created(service_request_id: str, token: str | None, notice: str, account_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"service_request_id": service_request_id}
    if token:
        out["token"] = token
    out.update(service_notice=notice, account_id=account_id or None)
    return out


def token(service_request_id: str | None, token_value: str) -> dict[str, Any]:
    return {"service_request_id": service_request_id, "token": token_value}


def service_request(
    event: Any,
    tz: tzinfo,
    *,
    service_name: str,
    agency: str | None,
    status_notes: str | None,
    media_url: str | None,
    service_notice: str | None = None,
    description: str | None = None,
    location: tuple[Any, Any, str] | None = None,
) -> dict[str, Any]:
    """One ``<request>`` of GET requests: ``event`` is an Event row (duck-typed). ``description``
    and ``location`` (lat, lon, address) are what may be published (the caller decides)."""
    status = status_of(event.state)
    lat, lon, address = location if location is not None else (event.lat, event.lon, event.address)
    return {
        "service_request_id": event.number,
        "status": status,
        "status_notes": status_notes or None,
        "service_name": service_name,
        "service_code": event.category_code,
        "description": description if description is not None else (event.description or event.title),
        "agency_responsible": agency,
        "service_notice": service_notice,
        "requested_datetime": iso(event.created_at, tz),
        "updated_datetime": iso(event.updated_at, tz),
        "expected_datetime": iso(event.due_at, tz) if status == "open" else None,
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": number(lat),
        "long": number(lon),
        "media_url": media_url or None,
    }


def request_update(line: Any, number_: str, tz: tzinfo, description: str, media_url: str | None) -> dict[str, Any]:
    """One ``<request_update>`` of FixMyStreet's servicerequestupdates: ``line`` is an EventTransition."""
    return {
        "update_id": str(line.id),
        "service_request_id": number_,
        "status": fms_status(line.to_state),
        "updated_datetime": iso(line.at, tz),
        "description": description,
        "media_url": media_url or None,
    }


def error(code: int, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}


# ---- writing -----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any, name: str) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child, key)
    elif isinstance(value, list):
        item = LIST_ITEMS.get(name, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child, item)
    else:
        text = _text(value)
        if text is not None:
            element.text = text


def to_xml(value: Any, root: str, item: str | None = None) -> bytes:
    """``value`` under ``<root>``; a list's members each as ``<item>``."""
    element = ET.Element(root)
    if isinstance(value, list):
        assert item is not None, "a list document needs its item element"
        for member in value:
            _fill(ET.SubElement(element, item), member, item)
    else:
        _fill(element, value, root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode()


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dump(fmt: str, value: Any, root: str, item: str | None = None) -> bytes:
    return to_xml(value, root, item) if fmt == "xml" else to_json(value)


def errors(fmt: str, code: int, description: str) -> bytes:
    """The spec's error body: ``<errors><error><code>…`` or ``[{"code": …, "description": …}]``."""
    return dump(fmt, [error(code, description)], "errors", "error")
