"""The client's address and scheme, taken from forwarded headers only behind a trusted proxy.

``LIUZHI_TRUSTED_PROXIES`` lists the proxies' addresses or networks (none by default: then
``X-Forwarded-For`` is ignored, whoever sends it). Behind trusted proxies the client is the
right-most address in ``X-Forwarded-For`` that is not itself a trusted proxy, so a client cannot
forge its address by prepending one. ``LIUZHI_PLATFORM_ALLOWED_IPS`` limits the platform console.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def within(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]
    return ",".join(values) if values else None


def resolve_client(scope: Scope, trusted: tuple[Network, ...]) -> None:
    """Rewrite ``scope["client"]`` (and ``scheme``) from the forwarded headers of trusted proxies."""
    client: Any = scope.get("client")
    if not trusted or not client or not within(client[0], trusted):
        return
    forwarded = _header(scope, b"x-forwarded-for")
    if forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        real = None
        for hop in reversed(hops):
            if _address(hop) is None:
                break  # garbage: trust nothing further left
            real = hop
            if not within(hop, trusted):
                break
        if real is not None:
            ip = _address(real)
            scope["client"] = (str(ip), 0)
    proto = _header(scope, b"x-forwarded-proto")
    if proto and proto.split(",")[-1].strip().lower() in ("http", "https"):
        scope["scheme"] = proto.split(",")[-1].strip().lower()


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
