"""What a plugin declares about itself: the admin UI and the host read it, nothing is coded twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


@dataclass(frozen=True)
class Action:
    """An RBAC action a plugin guards, and the built-in roles that get it by default."""

    name: str  # "<plugin>.<thing>.<verb>", e.g. "smart_service.event.dispatch"
    title_zh: str
    title_en: str
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    name: str
    pillar: str  # one of the six, or "other" for third-party extras
    title_zh: str
    title_en: str
    version: str
    core_api: int = 1
    description_zh: str = ""
    description_en: str = ""
    # A msgspec.Struct subclass: the settings form is generated from it and validated by it.
    settings: type[msgspec.Struct] | None = None
    actions: tuple[Action, ...] = ()
    icon: str = "◆"
    extra: dict[str, Any] = field(default_factory=dict)

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class MenuItem:
    title_zh: str
    title_en: str
    href: str  # tenant-relative path, e.g. "/smart-service/"
    # Shown only to users allowed this action (or any of these actions) somewhere.
    action: str | tuple[str, ...] | None = None
    icon: str = ""
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Widget:
    """A dashboard card: a title and an HTML fragment (already rendered, autoescaped by its template)."""

    title_zh: str
    title_en: str
    html: str
    order: int = 100
    href: str | None = None

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Panel:
    """A section a plugin adds to a grid node's page."""

    title_zh: str
    title_en: str
    html: str
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh


@dataclass(frozen=True)
class Notification:
    tenant_id: int
    user_id: int
    title: str
    body: str = ""
    link: str | None = None
    channels: tuple[str, ...] = ("inapp",)
    # Where an outside channel sends it when there is no account yet (a phone for a sign-up code).
    address: str | None = None


@dataclass(frozen=True)
class Figure:
    """One headline number of a pillar (events closed, hours served, votes held …): on a node's
    page, where a community shows all its pillars at a glance, and on a resident's 我的 page."""

    label_zh: str
    label_en: str
    value: int | float | str
    unit_zh: str = ""
    unit_en: str = ""
    href: str | None = None  # tenant-relative page with the detail
    order: int = 100

    def label(self, locale: str) -> str:
        return self.label_en if locale.startswith("en") else self.label_zh

    def unit(self, locale: str) -> str:
        return self.unit_en if locale.startswith("en") else self.unit_zh


@dataclass(frozen=True)
class MySection:
    """A plugin's part of a resident's 我的 page: headline figures, an optional rendered fragment
    (autoescaped by its template) and a link to the plugin's own page with everything."""

    title_zh: str
    title_en: str
    figures: tuple[Figure, ...] = ()
    html: str = ""
    href: str | None = None
    order: int = 100

    def title(self, locale: str) -> str:
        return self.title_en if locale.startswith("en") else self.title_zh
