"""Pure WooCommerce sandbox logic: OAuth 1.0a strings, webhook signing, validation, naming.

The base-string case is the example printed in the spec's _authentication.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.woocommerce.auth import (
    AuthRequest,
    Credentials,
    WooAuthenticator,
    normalized_parameters,
    oauth_signature,
    parse_basic,
    percent_encode,
    sign_oauth,
    signature_base_string,
)
from omnistock.kit.sandbox.woocommerce.errors import WooApiError
from omnistock.kit.sandbox.woocommerce.hooks import delivery_id, encode_payload, sign_payload
from omnistock.kit.sandbox.woocommerce.http import operation_of
from omnistock.kit.sandbox.woocommerce.store import derive_stock_status
from omnistock.kit.sandbox.woocommerce.validation import as_boolean, as_integer, parse_iso_date

URL = "http://www.example.com/wp-json/wc/v3/orders"
CREDS = Credentials(consumer_key="ck_test", consumer_secret="cs_test")  # noqa: S106 - test key


def test_base_string_matches_the_documented_example() -> None:
    params = [("oauth_signature_method", "HMAC-SHA1"), ("oauth_consumer_key", "abc123")]
    assert normalized_parameters(params) == (
        "oauth_consumer_key=abc123&oauth_signature_method=HMAC-SHA1"
    )
    assert signature_base_string("get", URL, params) == (
        "GET&http%3A%2F%2Fwww.example.com%2Fwp-json%2Fwc%2Fv3%2Forders"
        "&oauth_consumer_key%3Dabc123%26oauth_signature_method%3DHMAC-SHA1"
    )


def test_percent_encoding_is_rfc3986() -> None:
    assert percent_encode("a b+c/~*") == "a%20b%2Bc%2F~%2A"


@pytest.mark.parametrize(("method", "digest"), [("HMAC-SHA1", "sha1"), ("HMAC-SHA256", "sha256")])
def test_signature_is_hmac_of_base_with_secret_and_ampersand(method: str, digest: str) -> None:
    expected = hmac.new(b"cs_test&", b"GET&x&y", digest).digest()
    assert oauth_signature("GET&x&y", "cs_test", method) == base64.b64encode(expected).decode()


def test_parse_basic() -> None:
    token = base64.b64encode(b"ck:cs:with:colons").decode()
    assert parse_basic(f"Basic {token}") == ("ck", "cs:with:colons")
    assert parse_basic("Basic !!!") is None
    assert parse_basic("Bearer x") is None


def _oauth(clock: ManualClock, nonce: str = "n" * 32, **overrides: str) -> AuthRequest:
    params = [
        ("per_page", "5"),
        ("oauth_consumer_key", "ck_test"),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_timestamp", str(int(clock.now()))),
    ]
    signed = dict(sign_oauth("GET", URL, params, "cs_test"))
    signed.update(overrides)
    return AuthRequest(
        method="GET", url=URL, https=False, query=list(signed.items()), authorization=None
    )


def _authenticator(clock: ManualClock, allow_basic: bool = False) -> WooAuthenticator:
    return WooAuthenticator(CREDS, clock, allow_basic_over_http=allow_basic)


def _message(auth: WooAuthenticator, request: AuthRequest) -> str:
    with pytest.raises(WooApiError) as caught:
        auth.authenticate(request)
    assert caught.value.status == 401
    return caught.value.message


def test_oauth_accepts_a_correct_signature_once() -> None:
    clock = ManualClock()
    auth = _authenticator(clock)
    request = _oauth(clock)
    auth.authenticate(request)
    assert "nonce" in _message(auth, request)


def test_oauth_rejects_forgery_and_stale_timestamps() -> None:
    clock = ManualClock()
    auth = _authenticator(clock)
    forged = _oauth(clock, oauth_signature="AAAA")
    assert "signature" in _message(auth, forged)
    stale = _oauth(clock, nonce="m" * 32)
    clock.advance(15 * 60 + 1)
    assert _message(auth, stale) == "Invalid timestamp."
    assert "Missing OAuth parameter" in _message(auth, _oauth(clock, oauth_nonce=""))


def test_oauth_rejects_other_signature_methods() -> None:
    clock = ManualClock()
    assert "method" in _message(_authenticator(clock), _oauth(clock, oauth_signature_method="MD5"))


def test_basic_over_plain_http_only_when_allowed() -> None:
    token = base64.b64encode(b"ck_test:cs_test").decode()
    request = AuthRequest(
        method="PUT", url=URL, https=False, query=[], authorization=f"Basic {token}"
    )
    clock = ManualClock()
    _authenticator(clock, allow_basic=True).authenticate(request)
    with pytest.raises(WooApiError) as caught:
        _authenticator(clock).authenticate(request)
    assert caught.value.code == "woocommerce_rest_cannot_edit"


def test_webhook_signature_is_base64_hmac_sha256_of_the_exact_body() -> None:
    body = encode_payload({"id": 1, "permalink": "http://x/p/"})
    assert body == b'{"id":1,"permalink":"http:\\/\\/x\\/p\\/"}'
    assert json.loads(body) == {"id": 1, "permalink": "http://x/p/"}
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert sign_payload("s3cret", body) == expected


def test_delivery_ids_repeat_within_one_second() -> None:
    assert delivery_id(3, 1_000, "salt") == delivery_id(3, 1_000, "salt")
    assert delivery_id(3, 1_000, "salt") != delivery_id(3, 1_001, "salt")


@pytest.mark.parametrize(("raw", "expected"), [(7, 7), ("7", 7), (7.0, 7), ("-3", -3)])
def test_integers_follow_rest_is_integer(raw: object, expected: int) -> None:
    assert as_integer("stock_quantity", raw) == expected


@pytest.mark.parametrize("raw", [True, 7.5, "seven", None, [1]])
def test_non_integers_are_rest_invalid_param(raw: object) -> None:
    with pytest.raises(WooApiError) as caught:
        as_integer("stock_quantity", raw)
    assert caught.value.code == "rest_invalid_param"
    assert caught.value.extra["params"] == {
        "stock_quantity": "stock_quantity is not of type integer."
    }


def test_booleans_follow_rest_is_boolean() -> None:
    assert [as_boolean("b", v) for v in (True, "true", "1", 1, False, "false", "0", 0)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(WooApiError):
        as_boolean("b", "yes")


def test_naive_dates_use_the_given_offset() -> None:
    assert parse_iso_date("d", "1970-01-01T01:00:00", assume_offset_s=3600) == 0
    assert parse_iso_date("d", "1970-01-01T01:00:00Z", assume_offset_s=3600) == 3600


def test_stock_status_is_derived_when_managed() -> None:
    assert derive_stock_status(True, 3, "no", "outofstock") == "instock"
    assert derive_stock_status(True, 0, "no", "instock") == "outofstock"
    assert derive_stock_status(True, -1, "notify", "instock") == "onbackorder"
    assert derive_stock_status(False, None, "no", "onbackorder") == "onbackorder"


def test_operation_names() -> None:
    assert operation_of("PUT", "/wp-json/wc/v3/products/12/variations/40") == "variations.update"
    assert operation_of("post", "/wp-json/wc/v3/products/batch") == "products.batch"
    assert operation_of("GET", "/wp-json/wc/v3/orders") == "orders.list"
