"""Validators for Chinese identifiers and the masks shown to roles without the reveal action."""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidValue(ValueError):
    """The reason is a user-facing sentence (translated by the caller)."""


def normalise_id_number(raw: str) -> str:
    return raw.strip().upper().replace(" ", "")


def check_id_number(raw: str) -> str:
    """GB 11643-1999 居民身份证号码: 18 characters, valid birth date, ISO 7064 MOD 11-2 check digit."""
    value = normalise_id_number(raw)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise InvalidValue("An ID number has 17 digits followed by a digit or X.")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidValue("The ID number contains an impossible birth date.") from exc
    if born > date.today() or born.year < 1880:
        raise InvalidValue("The ID number contains an impossible birth date.")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise InvalidValue("The ID number's check digit is wrong: please check it again.")
    return value


def id_number_birth_date(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_number_gender(value: str) -> str:
    return "male" if int(value[16]) % 2 else "female"


def check_phone(raw: str) -> str:
    value = re.sub(r"[\s-]", "", raw.strip())
    if value.startswith("+86"):
        value = value[3:]
    if not _PHONE.fullmatch(value):
        raise InvalidValue("A mobile number has 11 digits and starts with 1.")
    return value


def check_credit_code(raw: str) -> str:
    """GB 32100-2015 统一社会信用代码: 18 characters with a MOD 31 check character."""
    value = raw.strip().upper()
    if len(value) != 18 or any(ch not in _USCC_CHARS for ch in value):
        raise InvalidValue("A unified social credit code has 18 characters (digits and capital letters).")
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    if _USCC_CHARS[(31 - total % 31) % 31] != value[17]:
        raise InvalidValue("The unified social credit code's check character is wrong.")
    return value


def mask_id_number(value: str) -> str:
    """``110***********001X``: the region's first 3 and the last 4 stay readable."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_phone(value: str) -> str:
    """``138****1234``."""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def make_id_number(first17: str) -> str:
    """Complete 17 digits with the right check digit (demo data and tests)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]
