"""TOTP second factor (RFC 6238, pyotp) with QR enrolment (segno) and one-time recovery codes.

等保 2.0 level 3 asks administrators for two authentication factors. The secret is encrypted at rest
(core.crypto.Vault); a code is accepted once (the last accepted time step is kept, so a code
seen over a shoulder cannot be replayed within its 30 s); recovery codes are stored as SHA-256
digests and each works once. Works the same for tenant users and platform operators.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pyotp
import segno

PURPOSE = b"totp"
ISSUER = "Liuzhi"
RECOVERY_CODES = 10
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (an <img> under CSP's img-src data:)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (this one or a neighbour, for clock drift), or None."""
    code = re.sub(r"\s", "", code or "")
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step = totp.timecode(datetime.fromtimestamp(now, UTC))
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def enabled(account: Any) -> bool:
    return account.totp_secret_enc is not None and account.totp_enabled_at is not None


def secret_of(account: Any, vault: Any) -> str:
    return vault.decrypt(account.totp_secret_enc, PURPOSE)


def verify_code(account: Any, vault: Any, code: str, now: float | None = None) -> bool:
    """A current code not used before; records its step (the caller commits)."""
    step = matching_step(secret_of(account, vault), code, now)
    if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
        return False
    account.totp_last_step = step
    return True


def _digest(code: str) -> str:
    return hashlib.sha256(re.sub(r"[\s-]", "", code).lower().encode()).hexdigest()


def new_recovery_codes(n: int = RECOVERY_CODES) -> tuple[list[str], list[str]]:
    """(codes to show once, digests to store)."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(n)]
    return codes, [_digest(c) for c in codes]


def recovery_left(account: Any) -> list[str]:
    return (account.totp_recovery or "").split()


def set_recovery(account: Any, digests: list[str]) -> None:
    account.totp_recovery = " ".join(digests)


def use_recovery_code(account: Any, code: str) -> bool:
    digest = _digest(code)
    remaining = recovery_left(account)
    for stored in remaining:
        if hmac.compare_digest(stored, digest):
            remaining.remove(stored)
            set_recovery(account, remaining)
            return True
    return False


def enable(account: Any, vault: Any, secret: str, code: str, now: float | None = None) -> list[str] | None:
    """Switch TOTP on once the user proves the app shows the right code; returns the recovery codes."""
    step = matching_step(secret, code, now)
    if step is None:
        return None
    codes, digests = new_recovery_codes()
    account.totp_secret_enc = vault.encrypt(secret, PURPOSE)
    account.totp_enabled_at = datetime.now(UTC)
    account.totp_last_step = step
    set_recovery(account, digests)
    return codes


def disable(account: Any) -> None:
    account.totp_secret_enc = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    account.totp_recovery = ""
