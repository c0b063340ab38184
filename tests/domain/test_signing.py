import hashlib
import hmac

import pytest

from domain.signing import SignatureError, sign, verify

SECRET = "test-secret"
BODY = '{"job_id":"UC1","status":"completed","note":"使用性质"}'.encode()
NOW = 1_790_000_000


def test_sign_matches_the_documented_format() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


def test_verify_returns_the_timestamp_of_a_valid_signature() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, NOW), now=NOW + 10) == NOW


@pytest.mark.parametrize("skew", [-300, 300])
def test_verify_accepts_the_edges_of_the_tolerance(skew: int) -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, NOW), now=NOW + skew) == NOW


def test_verify_accepts_a_header_signed_with_old_and_new_secrets() -> None:
    old = sign("old-secret", BODY, NOW).split(",")[1]

    assert verify(SECRET, BODY, f"{sign(SECRET, BODY, NOW)},{old}", now=NOW) == NOW


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "malformed"),
        ("garbage", "malformed"),
        (f"v1={'0' * 64}", "malformed"),
        (f"t={NOW}", "malformed"),
        (f"t=abc,v1={'0' * 64}", "malformed"),
        (f"t=-5,v1={'0' * 64}", "malformed"),
        (f"t={NOW},t={NOW},v1={'0' * 64}", "malformed"),
        (f"t={NOW},v1=", "malformed"),
    ],
)
def test_verify_rejects_malformed_headers(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, BODY, header, now=NOW)


def test_verify_rejects_an_old_signature() -> None:
    with pytest.raises(SignatureError, match="too old"):
        verify(SECRET, BODY, sign(SECRET, BODY, NOW), now=NOW + 301)


def test_verify_rejects_a_signature_from_the_future() -> None:
    with pytest.raises(SignatureError, match="future"):
        verify(SECRET, BODY, sign(SECRET, BODY, NOW), now=NOW - 301)


def test_verify_honours_a_custom_tolerance() -> None:
    with pytest.raises(SignatureError, match="too old"):
        verify(SECRET, BODY, sign(SECRET, BODY, NOW), now=NOW + 11, tolerance_s=10)


@pytest.mark.parametrize(
    ("secret", "body"),
    [("other-secret", BODY), (SECRET, BODY + b" "), (SECRET, b"")],
)
def test_verify_rejects_a_wrong_secret_or_altered_body(secret: str, body: bytes) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret, body, sign(SECRET, BODY, NOW), now=NOW)


def test_verify_rejects_a_non_ascii_signature_without_crashing() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, f"t={NOW},v1=签名", now=NOW)


def test_signature_error_exposes_its_reason() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(SECRET, BODY, "nonsense", now=NOW)

    assert caught.value.reason == str(caught.value)
