"""Password hashing: our scrypt format and LeanCloud's exported hashes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leancloud.server import passwords
from leancloud.server.passwords import (
    ScryptCost,
    hash_password,
    leancloud_hash,
    needs_upgrade,
    verify_password,
)

FAST = ScryptCost(n=16, r=1, p=1)

# The test vector from LeanCloud's dashboard guide (export-format.md §5).
LC_SALT = "h60d8x797d3oa0naxybxxv9bn7xpt2yiowz68mpiwou7gwr2"
LC_HASH = "tA7BLW+NK0UeARng0693gCaVnljkglCB9snqlpCSUKjx2RgYp8VZZOQt0S5iUtlDrkJXfT3gknS4rRqjYsd/Ug=="


def test_leancloud_hash_matches_the_documented_vector():
    assert leancloud_hash("password", LC_SALT) == LC_HASH


def test_leancloud_hash_verifies_with_its_salt_only():
    assert verify_password("password", LC_HASH, LC_SALT)
    assert not verify_password("Password", LC_HASH, LC_SALT)
    assert not verify_password("password", LC_HASH, LC_SALT[:-1])
    assert not verify_password("password", LC_HASH)


def test_our_hash_is_self_describing_and_salted():
    first = hash_password("secret", FAST)
    second = hash_password("secret", FAST)
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16", "1", "1")
    assert salt and digest and "=" not in salt + digest
    assert first != second  # a fresh salt each time
    assert verify_password("secret", first) and verify_password("secret", second)


def test_wrong_password_and_missing_hashes_never_verify():
    stored = hash_password("secret", FAST)
    assert not verify_password("secreT", stored)
    assert not verify_password("", stored)
    assert not verify_password("secret", "")
    assert not verify_password("secret", None)
    assert not verify_password("", "", "")


def test_malformed_scrypt_strings_do_not_verify_or_crash():
    for stored in (
        "scrypt$x$1$1$aa$bb",
        "scrypt$16$1$1$!!$bb",
        "scrypt$15$1$1$aa$bb",
        "scrypt$16$1",
    ):
        assert not verify_password("secret", stored)
        assert needs_upgrade(stored)


def test_default_cost_is_used_when_none_given(monkeypatch):
    monkeypatch.setattr(passwords, "DEFAULT_COST", ScryptCost(n=32, r=2, p=1))
    assert hash_password("pw").startswith("scrypt$32$2$1$")


def test_needs_upgrade_for_leancloud_hashes_and_weaker_costs():
    assert needs_upgrade(LC_HASH, FAST)
    assert needs_upgrade(None, FAST)
    stored = hash_password("pw", FAST)
    assert not needs_upgrade(stored, FAST)
    assert needs_upgrade(stored, ScryptCost(n=32, r=1, p=1))
    assert needs_upgrade(stored, ScryptCost(n=16, r=1, p=2))
    assert not needs_upgrade(hash_password("pw", ScryptCost(n=32, r=2, p=1)), FAST)


def test_cost_rejects_invalid_factors():
    for n, r, p in ((15, 1, 1), (1, 1, 1), (16, 0, 1), (16, 1, 0)):
        with pytest.raises(ValueError):
            ScryptCost(n, r, p)


def test_hash_password_rejects_non_strings():
    with pytest.raises(TypeError):
        hash_password(b"bytes", FAST)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_unicode_password_round_trips(password, other):
    stored = hash_password(password, FAST)
    assert verify_password(password, stored)
    assert verify_password(other, stored) == (other == password)


def test_the_production_cost_runs_within_openssls_memory_limit():
    stored = hash_password("pw")  # the real DEFAULT_COST: ~0.2 s, 16 MiB
    assert stored.startswith("scrypt$16384$8$5$")
    assert verify_password("pw", stored) and not needs_upgrade(stored)
