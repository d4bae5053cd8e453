"""Reading tenants/<slug>/tenant.toml and grid.csv into a TenantDefinition."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

from core.tenancy.service import NodeDef, TenantDefinition, TenantError


def read_definition(folder: Path) -> TenantDefinition:
    toml_path = folder / "tenant.toml"
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TenantError(f"{toml_path}: {exc}") from exc
    nodes: list[NodeDef] = []
    grid = folder / "grid.csv"
    if grid.exists():
        with grid.open(encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                if not row.get("code") or not row.get("kind") or not row.get("name"):
                    raise TenantError(f"{grid}:{i}: code, kind and name are required")
                nodes.append(
                    NodeDef(row["code"], row.get("parent") or None, row["kind"], row["name"], row.get("name_en", ""))
                )
    try:
        return TenantDefinition(
            slug=data["slug"],
            name_zh=data["name_zh"],
            name_en=data.get("name_en", ""),
            locale=data.get("locale", "zh_Hans"),
            domains=list(data.get("domains", [])),
            terminology=dict(data.get("terminology", {})),
            branding=dict(data.get("branding", {})),
            plugins={k: dict(v) for k, v in data.get("plugins", {}).items()},
            kinds=list(data.get("kinds", [])),
            nodes=nodes,
            demo_users=list(data.get("demo", {}).get("users", [])),
            demo_dir=folder / "demo" if (folder / "demo").is_dir() else None,
            demo_community=data.get("demo", {}).get("community"),
        )
    except KeyError as exc:
        raise TenantError(f"{toml_path}: missing key {exc}") from exc


def read_all(tenants_dir: Path) -> list[TenantDefinition]:
    return [read_definition(p) for p in sorted(tenants_dir.iterdir()) if (p / "tenant.toml").exists()]
