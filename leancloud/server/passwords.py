"""Password hashes: ours (scrypt) and the ones LeanCloud exports.

New passwords are hashed with scrypt and a random per-password salt into one
self-describing string, ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in
unpadded URL-safe base64), so the cost can be raised later without breaking old
hashes: ``needs_upgrade`` tells the caller to re-hash after a successful login.

Users imported from LeanCloud carry LeanCloud's hash (SHA-512 of salt + password,
then 512 more SHA-512 rounds, standard base64) with the salt in a separate field.
Those verify here too, and always need an upgrade.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Optional

__all__ = [
    "ScryptCost",
    "DEFAULT_COST",
    "hash_password",
    "verify_password",
    "needs_upgrade",
    "leancloud_hash",
]

_SCHEME = "scrypt"
_SALT_BYTES = 16
_KEY_BYTES = 32
_LEANCLOUD_ROUNDS = 512


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's work factors: ``n`` (CPU/memory, a power of two), ``r`` (block size), ``p``."""

    n: int
    r: int
    p: int

    def __post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.r < 1 or self.p < 1:
            raise ValueError(f"invalid scrypt cost: {self}")

    def memory(self) -> int:
        """Bytes scrypt needs; OpenSSL refuses to run with less ``maxmem``."""
        return 128 * self.r * (self.n + self.p + 2)


# OWASP's equivalent of N=2^17,r=8,p=1 that needs 16 MiB instead of 128 MiB per login.
# Looked up at call time so a test fixture can lower it for speed.
DEFAULT_COST = ScryptCost(n=2**14, r=8, p=5)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.memory() + 1024 * 1024,
        dklen=_KEY_BYTES,
    )


def hash_password(password: str, cost: Optional[ScryptCost] = None) -> str:
    """Hash ``password`` with a fresh random salt into our stored form."""
    if not isinstance(password, str):
        raise TypeError("password must be a string")
    cost = cost or DEFAULT_COST
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt, cost)
    return "$".join((_SCHEME, str(cost.n), str(cost.r), str(cost.p), _b64(salt), _b64(digest)))


def _parse_scrypt(stored: str) -> Optional[tuple]:
    """``(cost, salt, digest)`` of one of our hashes, or None if ``stored`` is not one."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    try:
        cost = ScryptCost(int(parts[1]), int(parts[2]), int(parts[3]))
        return cost, _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return None


def leancloud_hash(password: str, salt: str) -> str:
    """LeanCloud's exported password hash of ``password`` with the user's ``salt``."""
    digest = hashlib.sha512(salt.encode("utf-8") + password.encode("utf-8")).digest()
    for _ in range(_LEANCLOUD_ROUNDS):
        digest = hashlib.sha512(digest).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_password(password: str, stored: Optional[str], salt: Optional[str] = None) -> bool:
    """Whether ``password`` matches ``stored`` (ours, or LeanCloud's with its ``salt``).

    An empty or missing hash never matches: users created by SMS login have none.
    Comparisons take constant time in the digest.
    """
    if not isinstance(password, str) or not isinstance(stored, str) or not stored:
        return False
    parsed = _parse_scrypt(stored)
    if parsed is not None:
        cost, scrypt_salt, digest = parsed
        return hmac.compare_digest(_scrypt(password, scrypt_salt, cost), digest)
    if isinstance(salt, str) and salt:
        expected = leancloud_hash(password, salt).encode("ascii")
        return hmac.compare_digest(expected, stored.encode("utf-8"))
    return False


def needs_upgrade(stored: Optional[str], cost: Optional[ScryptCost] = None) -> bool:
    """Whether a hash that just verified should be replaced by ``hash_password``'s.

    True for LeanCloud's hashes and for ours made with a lower cost than the current one.
    """
    if not isinstance(stored, str):
        return True
    parsed = _parse_scrypt(stored)
    if parsed is None:
        return True
    old = parsed[0]
    cost = cost or DEFAULT_COST
    return old.n < cost.n or old.r < cost.r or old.p < cost.p
