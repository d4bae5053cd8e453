"""argon2id password hashing (argon2-cffi), with rehash when parameters change."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Production uses argon2-cffi's RFC 9106 low-memory profile. The test suite sets
# LIUZHI_PASSWORD_HASHING=fast: still real argon2id, with parameters meant for tests.
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("LIUZHI_PASSWORD_HASHING") == "fast"
    else PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
)
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


# Spent on unknown usernames so a miss takes as long as a wrong password.
DUMMY_HASH = hash_password("liuzhi-timing-equaliser")
