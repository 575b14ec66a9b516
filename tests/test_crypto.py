"""Encryption at rest: AES-GCM values tagged with key ids; old keys read, the first writes."""

from __future__ import annotations

import pytest

from taskwell.crypto import DERIVED_KID, Encryptor, UndecryptableValue, new_key
from taskwell.settings import Settings


def _encryptor(keys: str) -> Encryptor:
    return Encryptor.from_settings(Settings(encryption_keys=keys))


def test_values_round_trip_and_are_tagged_with_the_current_key() -> None:
    enc = _encryptor(f"k2:{new_key()},k1:{new_key()}")
    stored = enc.encrypt("JBSWY3DPEHPK3PXP", "auth_totp:alice")
    assert stored.startswith("v1.k2.")
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert enc.decrypt(stored, "auth_totp:alice") == "JBSWY3DPEHPK3PXP"


def test_the_same_plaintext_encrypts_differently_each_time() -> None:
    enc = _encryptor(f"k1:{new_key()}")
    assert enc.encrypt("x", "c") != enc.encrypt("x", "c")


def test_a_value_moved_to_another_row_does_not_decrypt() -> None:
    enc = _encryptor(f"k1:{new_key()}")
    stored = enc.encrypt("secret", "auth_totp:alice")
    with pytest.raises(UndecryptableValue):
        enc.decrypt(stored, "auth_totp:bob")


def test_tampering_is_detected() -> None:
    enc = _encryptor(f"k1:{new_key()}")
    stored = enc.encrypt("secret", "c")
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(UndecryptableValue):
        enc.decrypt(flipped, "c")


def test_old_keys_still_read_after_a_new_one_is_added() -> None:
    old, new = new_key(), new_key()
    stored = _encryptor(f"k1:{old}").encrypt("secret", "c")
    rotated = _encryptor(f"k2:{new},k1:{old}")
    assert rotated.decrypt(stored, "c") == "secret"
    assert rotated.encrypt("secret", "c").startswith("v1.k2.")


def test_a_value_whose_key_is_gone_cannot_be_read() -> None:
    stored = _encryptor(f"k1:{new_key()}").encrypt("secret", "c")
    with pytest.raises(UndecryptableValue):
        _encryptor(f"k2:{new_key()}").decrypt(stored, "c")


def test_without_configured_keys_a_key_derived_from_the_secret_is_used() -> None:
    enc = _encryptor("")
    assert enc.current == DERIVED_KID
    assert enc.decrypt(enc.encrypt("s", "c"), "c") == "s"


def test_keys_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        _encryptor("k1:c2hvcnQ=")
