"""What happened to one row, and the importing user's area (the same for the preview and the job)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import gettext as _

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"

Row = tuple[int, dict[str, str]]  # (row number as the spreadsheet shows it, {field: text})


@dataclass
class Outcome:
    row: int
    status: str
    values: dict[str, str]  # as shown in reports: ID numbers and phones masked
    reason: str = ""  # already translated into the importer's language


@dataclass(frozen=True)
class Area:
    """Node path prefixes (trailing '/') where the importing user may do one action."""

    prefixes: tuple[str, ...] = field(default=())

    def covers(self, path: str | None) -> bool:
        return bool(path) and any(path.startswith(p) for p in self.prefixes)  # type: ignore[union-attr]


def field_titles() -> dict[str, str]:
    """What each column means, in the reader's language (the headers themselves are Chinese)."""
    return {
        "code": _("Code"),
        "parent": _("Parent code"),
        "kind": _("Kind"),
        "name": _("Name"),
        "name_en": _("English name"),
        "id_number": _("ID number"),
        "phone": _("Mobile"),
        "household": _("Household code"),
        "relation": _("Relation"),
        "ethnicity": _("Ethnicity"),
        "registration": _("Registration"),
        "note": _("Note"),
        "moved_in": _("Moved in on"),
    }
