"""Signatures follow the Standard Webhooks scheme: the published test vector, and agreement
with an independent implementation (tests/support/receiver.py) for any id, time and body."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from taskwell.webhooks.signing import PREFIX, new_secret, sign, signature_header
from tests.support.receiver import verify


def test_the_specifications_test_vector() -> None:
    # From the Standard Webhooks reference libraries' test suite.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert first.startswith(PREFIX)
    assert len(base64.b64decode(first.removeprefix(PREFIX))) == 32
    assert first != second


@given(
    message_id=st.text(alphabet="abcdef0123456789-_", min_size=1, max_size=40),
    timestamp=st.integers(min_value=0, max_value=2**40),
    body=st.binary(max_size=2_000),
)
def test_an_independent_verifier_accepts_every_signature(
    message_id: str, timestamp: int, body: bytes
) -> None:
    secret = new_secret()
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header([secret], message_id, timestamp, body),
    }

    assert verify(secret, headers, body)
    assert not verify(new_secret(), headers, body)
    assert not verify(secret, headers, body + b" ")


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], "msg_1", 1_700_000_000, b"{}")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000"}

    assert len(header.split(" ")) == 2
    assert verify(old, {**headers, "webhook-signature": header}, b"{}")
    assert verify(new, {**headers, "webhook-signature": header}, b"{}")
