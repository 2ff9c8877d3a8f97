"""eBay Notification API, pure: the endpoint challenge answer, X-EBAY-SIGNATURE checking
(ECDSA over the body with a public key fetched by kid) and ORDER_CONFIRMATION parsing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.adapters.ebay.events import parse_time
from omnistock.adapters.ebay.wire import LISTING_ID
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import WebhookRejectedError
from omnistock.domain.ids import AccountId, Sku

SIGNATURE_HEADER = "x-ebay-signature"
_DIGESTS: Mapping[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
}


def challenge_response(code: str, verification_token: str, endpoint: str) -> dict[str, str]:
    """The JSON body answering `GET endpoint?challenge_code=…`: hex SHA-256 of the code,
    the destination's verification token and the endpoint URL, concatenated in that order."""
    digest = hashlib.sha256((code + verification_token + endpoint).encode()).hexdigest()
    return {"challengeResponse": digest}


def verification_token(client_secret: Secret, account: str) -> Secret:
    """The token a destination is created with when the account names none: derived from
    the application's secret and the account, so the process answering the challenge and
    the one registering agree (64 hex characters: within eBay's 32-80 of [A-Za-z0-9_-])."""
    key = client_secret.reveal().encode()
    return Secret(hmac.new(key, f"ebay-verification:{account}".encode(), "sha256").hexdigest())


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    alg: str
    kid: str
    signature: bytes
    digest: str


def signature_header(headers: Mapping[str, str]) -> SignatureHeader:
    """Decode X-EBAY-SIGNATURE (base64 of `{alg, kid, signature, digest}`)."""
    raw = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    if not raw:
        raise WebhookRejectedError("unsigned notification")
    try:
        doc = json.loads(base64.b64decode(raw, validate=True))
        return SignatureHeader(
            str(doc["alg"]).lower(),
            str(doc["kid"]),
            base64.b64decode(str(doc["signature"]), validate=True),
            str(doc.get("digest") or "SHA1").upper(),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise WebhookRejectedError("unreadable X-EBAY-SIGNATURE") from None


def public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """getPublicKey's `key`, whose PEM markers share a line with the base64: re-wrap it."""
    body = (
        pem.replace("-----BEGIN PUBLIC KEY-----", "")
        .replace("-----END PUBLIC KEY-----", "")
        .replace("\n", "")
        .strip()
    )
    text = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not an EC public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an EC public key")
    return key


def verify(header: SignatureHeader, key: ec.EllipticCurvePublicKey, body: bytes) -> None:
    """ECDSA over the raw body; eBay's SDK verifies compact JSON of the parsed body, so
    that form is accepted too (identical when eBay sends compact JSON)."""
    digest = _DIGESTS.get(header.digest)
    if header.alg != "ecdsa" or digest is None:
        raise WebhookRejectedError(f"unsupported signature {header.alg}/{header.digest}")
    for message in _signed_forms(body):
        try:
            key.verify(header.signature, message, ec.ECDSA(digest()))
            return
        except InvalidSignature:
            continue
    raise WebhookRejectedError("notification signature does not match")


def _signed_forms(body: bytes) -> list[bytes]:
    try:
        compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return [body]
    return [body] if compact.encode() == body else [body, compact.encode()]


def notification_events(body: bytes, account: AccountId) -> list[ChannelEvent]:
    """An ORDER_CONFIRMATION as ORDER_PLACED for its one line; other topics (and a payload
    without the line's SKU and quantity, which getOrders will bring) give no event."""
    try:
        doc = json.loads(body)
        topic = doc["metadata"]["topic"]
        note = doc["notification"]
        data = note["data"]
    except (ValueError, KeyError, TypeError):
        raise WebhookRejectedError("malformed notification", status=400) from None
    if topic != "ORDER_CONFIRMATION" or not isinstance(data, dict):
        return []
    sku, quantity, order_id = data.get("sku"), data.get("quantity"), data.get("orderId")
    line_id = data.get("lineItemId")
    if not (isinstance(sku, str) and isinstance(quantity, int) and order_id and line_id):
        return []
    ids = {LISTING_ID: str(data["itemId"])} if data.get("itemId") else {}
    line = OrderLine(line_id=str(line_id), quantity=quantity, sku=Sku(sku), external_ids=ids)
    return [
        ChannelEvent(
            kind=ChannelEventType.ORDER_PLACED,
            account=account,
            occurred_at=parse_time(note.get("eventDate")),
            order_id=str(order_id),
            lines=(line,),
            dedupe_key=f"ebay:{account}:order:{order_id}:order_placed:{line_id}",
        )
    ]


class KeyCache:
    """Public keys by kid, each kept `ttl` seconds (eBay advises caching ~1 h)."""

    def __init__(self, ttl: float = 3_600.0) -> None:
        self._ttl = ttl
        self._keys: dict[str, tuple[ec.EllipticCurvePublicKey, float]] = {}

    def get(self, kid: str, now: float) -> ec.EllipticCurvePublicKey | None:
        held = self._keys.get(kid)
        return held[0] if held is not None and now < held[1] else None

    def put(self, kid: str, key: ec.EllipticCurvePublicKey, now: float) -> None:
        self._keys[kid] = (key, now + self._ttl)
