"""verify_signature and the signing helpers of stripekit.testing."""

from __future__ import annotations

import hashlib
import hmac
import json
from unittest import mock

import pytest
import stripe

from stripekit._errors import ConfigurationError, SignatureError
from stripekit.testing._signing import sign_payload, signed_headers
from stripekit.webhooks._signature import verify_signature

SECRET = "whsec_test_secret_0123456789"
OTHER = "whsec_other_secret_9876543210"
NOW = 1_700_000_000.0
T = 1_699_999_990
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid"}, indent=2).encode()


def _sig(body: bytes, secret: str = SECRET, timestamp: int = T) -> str:
    """Stripe's signature, computed independently of the code under test."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _verify(header: str | None, body: bytes = BODY, secrets: list[str] | None = None) -> int:
    return verify_signature(body, header, [SECRET] if secrets is None else secrets, now=NOW)


def _refused(header: str | None, body: bytes = BODY, secrets: list[str] | None = None) -> str:
    with pytest.raises(SignatureError) as info:
        _verify(header, body, secrets)
    return str(info.value)


def test_valid_signature_returns_the_timestamp():
    assert _verify(f"t={T},v1={_sig(BODY)}") == T


def test_one_matching_v1_among_several_is_enough():
    wrong = _sig(BODY, OTHER)
    assert _verify(f"t={T},v1={wrong},v1={_sig(BODY)},v1={'0' * 64}") == T


def test_other_schemes_are_ignored():
    header = f"t={T},v0={_sig(BODY, OTHER)},v1={_sig(BODY)},v2=zzz,x"
    assert _verify(header) == T


def test_only_a_v0_signature_is_refused():
    assert "no v1 signature" in _refused(f"t={T},v0={_sig(BODY)}")


def test_rotation_the_second_secret_matches():
    header = f"t={T},v1={_sig(BODY, OTHER)}"
    assert _verify(header, secrets=[SECRET, OTHER]) == T
    assert _verify(header, secrets=["   ", OTHER]) == T


def test_wrong_secret_is_refused():
    message = _refused(f"t={T},v1={_sig(BODY, OTHER)}")
    assert "no v1 signature matches" in message
    assert "secret" in message
    assert "raw request body" in message


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda s: s[:-1] + ("0" if s[-1] != "0" else "1"),
        lambda s: s[:-2],
        lambda s: s.upper(),
        lambda s: s + "0",
        lambda s: "",
    ],
    ids=["last-digit", "truncated", "uppercase", "extended", "empty"],
)
def test_corrupted_signature_is_refused(corrupt):
    assert "no v1 signature matches" in _refused(f"t={T},v1={corrupt(_sig(BODY))}")


def test_body_changed_by_one_byte_is_refused():
    tampered = BODY.replace(b"evt_1", b"evt_2")
    assert "no v1 signature matches" in _refused(f"t={T},v1={_sig(BODY)}", tampered)


def test_reserialised_json_is_refused():
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert reserialised != BODY
    assert "re-serialised" in _refused(f"t={T},v1={_sig(BODY)}", reserialised)


def test_signed_timestamp_must_be_the_header_one():
    assert "no v1 signature matches" in _refused(f"t={T + 1},v1={_sig(BODY)}")


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_refused(header):
    assert "Stripe-Signature" in _refused(header)


@pytest.mark.parametrize("secrets", [[], [""], ["  \t\n"], ["\r", "\v\f"]])
def test_no_usable_secret_is_refused(secrets):
    assert "STRIPE_WEBHOOK_SECRET" in _refused(f"t={T},v1={_sig(BODY)}", secrets=secrets)


def test_secrets_stripe_cannot_use_are_skipped():
    header = f"t={T},v1={_sig(BODY, OTHER)}"
    assert _verify(header, secrets=["\ud800", OTHER]) == T  # not encodable in UTF-8
    assert "STRIPE_WEBHOOK_SECRET" in _refused(header, secrets=["\ud800"])


def test_only_ascii_whitespace_makes_a_secret_blank():
    # stripe strips " \t\r\n\f\v" only, so a no-break space is a (poor) secret
    assert _verify(f"t={T},v1={_sig(BODY, chr(0xA0))}", secrets=[chr(0xA0)]) == T


def test_a_single_str_as_secrets_is_a_type_error():
    with pytest.raises(TypeError, match=r"\[secret\]"):
        verify_signature(BODY, f"t={T},v1={_sig(BODY)}", SECRET, now=NOW)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"v1={'a' * 64}", "no 't=<timestamp>'"),
        (f"t=abc,v1={'a' * 64}", "not an integer"),
        (f"t=,v1={'a' * 64}", "not an integer"),
        (f"t=1.5,v1={'a' * 64}", "not an integer"),
        (f"t={T}", "no v1 signature"),
        (f"t={T},v1", "has no '=value'"),
        (f"t={T},v1={'a' * 64},t", "has no '=value'"),
        ("garbage", "no 't=<timestamp>'"),
        (",,,", "no 't=<timestamp>'"),
        (f" t={T},v1={'a' * 64}", "no 't=<timestamp>'"),  # keys are not stripped
    ],
)
def test_malformed_headers_are_refused(header, expected):
    assert expected in _refused(header)


def test_timestamp_is_parsed_like_int():
    # stripe uses int(): spaces, "+", "_" and other digits are all accepted, and the
    # signed string carries the normalised number.
    signature = _sig(BODY, timestamp=1_699_999_990)
    wide = "".join(chr(0xFF10 + int(digit)) for digit in "1699999990")
    for text in [" 1699999990 ", "+1699999990", "1_699_999_990", wide]:
        assert _verify(f"t={text},v1={signature}") == 1_699_999_990


def test_first_timestamp_wins():
    assert _verify(f"t={T},t=junk,v1={_sig(BODY)}") == T
    assert "not an integer" in _refused(f"t=junk,t={T},v1={_sig(BODY)}")


def test_value_stops_at_a_second_equals_sign():
    assert _verify(f"t={T}=x,v1={_sig(BODY)}=anything") == T


def test_non_ascii_signature_before_the_match_is_refused_like_stripe():
    good = _sig(BODY)
    assert _verify(f"t={T},v1={good},v1=é") == T
    assert "no v1 signature matches" in _refused(f"t={T},v1=é,v1={good}")


def test_expired_timestamp_is_refused():
    old = int(NOW) - 301
    message = _refused(f"t={old},v1={_sig(BODY, timestamp=old)}")
    assert "301 s old" in message
    assert "tolerance of 300 s" in message
    assert "clock" in message
    assert "replay" in message


def test_tolerance_boundary():
    # refused iff timestamp < now - tolerance, with a fractional clock
    edge = int(NOW) - 300
    header = f"t={edge},v1={_sig(BODY, timestamp=edge)}"
    assert verify_signature(BODY, header, [SECRET], now=NOW) == edge
    assert verify_signature(BODY, header, [SECRET], tolerance=299, now=NOW - 1) == edge
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, [SECRET], tolerance=299, now=NOW - 0.5)
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, [SECRET], now=NOW + 0.001)


def test_absurdly_old_signed_timestamp_is_refused_without_overflow():
    old = -(10**400)
    assert "tolerance of 300 s" in _refused(f"t={old},v1={_sig(BODY, timestamp=old)}")


def test_future_timestamp_is_accepted():
    future = int(NOW) + 86_400
    assert _verify(f"t={future},v1={_sig(BODY, timestamp=future)}") == future


def test_tolerance_none_means_300():
    for age, accepted in [(300, True), (301, False)]:
        old = int(NOW) - age
        header = f"t={old},v1={_sig(BODY, timestamp=old)}"
        if accepted:
            assert verify_signature(BODY, header, [SECRET], tolerance=None, now=NOW) == old
        else:
            with pytest.raises(SignatureError, match="tolerance of 300 s"):
                verify_signature(BODY, header, [SECRET], tolerance=None, now=NOW)


@pytest.mark.parametrize("tolerance", [0, -1, -300, float("nan"), float("inf")])
def test_tolerance_must_be_positive_and_finite(tolerance):
    header = f"t={T},v1={_sig(BODY)}"
    with pytest.raises(ConfigurationError, match="no 'never expires'"):
        verify_signature(BODY, header, [SECRET], tolerance=tolerance, now=NOW)


def test_invalid_utf8_body_is_refused_even_when_signed():
    body = b'{"id": "\xff\xfe"}'
    assert "not valid UTF-8" in _refused(f"t={T},v1={_sig(body)}", body)


def test_valid_non_ascii_body_is_accepted():
    body = json.dumps({"name": "Zoë 🎉"}, ensure_ascii=False).encode()
    assert _verify(f"t={T},v1={_sig(body)}", body) == T


def test_messages_never_contain_the_secret_nor_the_expected_signature():
    old = int(NOW) - 1000
    headers = [
        None,
        "garbage",
        f"t=nope,v1={_sig(BODY)}",
        f"t={T},v0={_sig(BODY)}",
        f"t={T},v1={_sig(BODY, OTHER)}",
        f"t={T},v1={_sig(BODY)}",  # expected signature in the header, body tampered below
        f"t={old},v1={_sig(BODY, timestamp=old)}",
    ]
    bodies = [BODY, BODY, BODY, BODY, BODY, BODY + b" ", BODY]
    for header, body in zip(headers, bodies, strict=True):
        message = _refused(header, body)
        for secret in (SECRET, OTHER):
            assert secret not in message
            assert _sig(body, secret) not in message
            assert _sig(BODY, secret) not in message
            assert _sig(BODY, secret, old) not in message
    assert SECRET not in _refused(f"t={T},v1=x", b"\xff")


def test_sign_payload_round_trips():
    header = sign_payload(BODY, SECRET, timestamp=T)
    assert header == f"t={T},v1={_sig(BODY)}"
    assert verify_signature(BODY, header, [SECRET], now=NOW) == T
    assert sign_payload(BODY.decode(), SECRET, timestamp=T) == header


def test_sign_payload_defaults_to_now():
    with mock.patch("time.time", return_value=NOW):
        header = sign_payload(BODY, SECRET)
    assert header.startswith(f"t={int(NOW)},v1=")
    assert verify_signature(BODY, header, [SECRET], now=NOW) == int(NOW)


def test_sign_payload_is_accepted_by_stripe():
    header = sign_payload(BODY, SECRET)
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET, 300) is True
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY, header, OTHER, 300)


def test_stripe_signatures_are_accepted():
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, T)
    assert verify_signature(BODY, header, [SECRET], now=NOW) == T


def test_sign_payload_other_scheme_is_not_verified():
    header = sign_payload(BODY, SECRET, timestamp=T, scheme="v0")
    assert header.startswith(f"t={T},v0=")
    assert "no v1 signature" in _refused(header)


@pytest.mark.parametrize("scheme", ["", "v1,v0", "v1="])
def test_sign_payload_refuses_a_scheme_that_breaks_the_header(scheme):
    with pytest.raises(ValueError, match="scheme"):
        sign_payload(BODY, SECRET, scheme=scheme)


def test_signed_headers():
    headers = signed_headers(BODY, SECRET, timestamp=T)
    assert headers == {
        "Stripe-Signature": sign_payload(BODY, SECRET, timestamp=T),
        "Content-Type": "application/json",
    }
    assert verify_signature(BODY, headers["Stripe-Signature"], [SECRET], now=NOW) == T
