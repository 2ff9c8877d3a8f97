"""Signatures of outbound webhooks: HMAC-SHA256 over "<timestamp>.<body>" with the
subscriber's secret, sent as `X-Omnistock-Signature: t=<unix seconds>,v1=<hex>`.

The timestamp is signed too, so a receiver can refuse replays older than its tolerance."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Omnistock-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance_s: int = 300) -> bool:
    """What a subscriber does: check the signature and that it is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance_s:
        return False
    expected = sign(secret, int(stamp), body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
