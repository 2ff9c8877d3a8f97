"""The channel branch of the error tree: what each class carries and how it reads."""

from __future__ import annotations

from omnistock.domain.errors import (
    AuthFailedError,
    ChannelError,
    OmnistockError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)


def test_channel_errors_name_account_and_status() -> None:
    error = PermanentError("unknown product 12", account="woo-eu", status=404)
    assert str(error) == "woo-eu: unknown product 12 (HTTP 404)"
    assert (error.account, error.status) == ("woo-eu", 404)
    assert str(ChannelError("connection reset", account="woo-eu")) == "woo-eu: connection reset"


def test_rate_limited_is_transient_with_retry_after() -> None:
    error = RateLimitedError("slow down", account="a", status=429, retry_after=2.5)
    assert isinstance(error, TransientError)
    assert error.retry_after == 2.5
    assert TransientError("timeout", account="a").retry_after is None


def test_auth_failure_is_permanent() -> None:
    assert issubclass(AuthFailedError, PermanentError)
    assert issubclass(PermanentError, ChannelError)
    assert issubclass(ChannelError, OmnistockError)


def test_webhook_rejection_defaults_to_401() -> None:
    forged = WebhookRejectedError("bad signature")
    assert (forged.reason, forged.status) == ("bad signature", 401)
    assert WebhookRejectedError("not JSON", status=400).status == 400
