"""Notification API v1: config, destinations (created only after the endpoint answers the
challenge), subscriptions, public keys, and ORDER_CONFIRMATION pushes signed with ECDSA."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.outbound import Delivery, DeliveryOutcome, Rendered, WebhookSender
from omnistock.kit.sandbox.ebay.errors import (
    CHALLENGE_FAILED,
    CONFIG_MISSING,
    DESTINATION_EXISTS,
    DESTINATION_NOT_ENABLED,
    DESTINATION_STATUS_INVALID,
    DESTINATION_UNKNOWN,
    EMAIL_INVALID,
    ENDPOINT_INVALID,
    KEY_NOT_FOUND,
    SUBSCRIPTION_EXISTS,
    TOPIC_INVALID,
    VERIFICATION_TOKEN_INVALID,
    error_response,
)
from omnistock.kit.sandbox.ebay.quota import iso
from omnistock.kit.sandbox.ebay.store import Line, Order

PREFIX = "/commerce/notification/v1"
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"
TOPICS = ("ORDER_CONFIRMATION", "MARKETPLACE_ACCOUNT_DELETION")


def challenge_response(code: str, verification_token: str, endpoint: str) -> str:
    """hex(SHA-256(challengeCode + verificationToken + endpoint)), in that order."""
    return hashlib.sha256((code + verification_token + endpoint).encode()).hexdigest()


@dataclass(slots=True, kw_only=True)
class Destination:
    destination_id: str
    name: str
    endpoint: str
    verification_token: str
    status: str = "ENABLED"


@dataclass(slots=True, kw_only=True)
class Subscription:
    number: int
    subscription_id: str
    topic: str
    destination_id: str
    status: str = "ENABLED"
    created: float = 0.0


def created(location: str) -> Response:
    """201 with the new resource in Location; the spec declares a JSON object body (an
    empty one here: ⚠️ eBay's reference pages list no response fields)."""
    return JSONResponse({}, status_code=201, headers={"Location": location})


class SigningKey:
    """The ECDSA P-256 key eBay signs with; `kid` names its public half."""

    def __init__(self, seed: int) -> None:
        secret = int.from_bytes(hashlib.sha256(f"ebay-notify:{seed}".encode()).digest(), "big")
        self._key = ec.derive_private_key(secret % (2**255) + 1, ec.SECP256R1())
        self.kid = hashlib.sha256(f"kid:{seed}".encode()).hexdigest()[:32]

    def public_pem_one_line(self) -> str:
        """The PEM as getPublicKey returns it: markers and base64 on one line."""
        pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "".join(pem.decode().splitlines())

    def header(self, body: bytes) -> str:
        signature = self._key.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - eBay's choice
        doc = {
            "alg": "ecdsa",
            "kid": self.kid,
            "signature": base64.b64encode(signature).decode(),
            "digest": "SHA1",
        }
        return base64.b64encode(json.dumps(doc).encode()).decode()


class Notifications:
    """Destinations and subscriptions of the one app, and the pushes they receive."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        faults: FaultInjector,
        client: httpx.AsyncClient | None,
        seed: int,
    ) -> None:
        self.clock = clock
        self.key = SigningKey(seed)
        self.sender = WebhookSender(clock=clock, faults=faults, listener=self, client=client)
        self._client = client
        self.alert_email: str | None = None
        self.destinations: dict[str, Destination] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._numbers = count(1)

    async def run(self) -> None:
        await self.sender.run()

    def delivered(self, outcome: DeliveryOutcome) -> None:
        """eBay marks a failing destination down ⚠️; the sandbox only records outcomes."""

    def register(self, endpoint: str, verification_token: str, topics: Sequence[str]) -> None:
        """A destination taken as having answered its challenge, and an enabled
        subscription to each topic (a merchant's finished setup)."""
        dest = Destination(
            destination_id=secrets.token_hex(8),
            name="omnistock",
            endpoint=endpoint,
            verification_token=verification_token,
        )
        self.destinations[dest.destination_id] = dest
        for topic in topics:
            sub = Subscription(
                number=next(self._numbers),
                subscription_id=secrets.token_hex(8),
                topic=topic,
                destination_id=dest.destination_id,
            )
            self.subscriptions[sub.subscription_id] = sub

    # --- routes -----------------------------------------------------------------------

    async def put_config(self, request: Request) -> Response:
        body = await request.json()
        email = body.get("alertEmail") if isinstance(body, dict) else None
        if not isinstance(email, str) or "@" not in email:
            return error_response(EMAIL_INVALID)
        self.alert_email = email
        return Response(status_code=204)

    async def create_destination(self, request: Request) -> Response:
        """Refused until /config holds an alert email (eBay: configure first)."""
        if self.alert_email is None:
            return error_response(CONFIG_MISSING)
        body = await request.json()
        config = body.get("deliveryConfig") if isinstance(body, dict) else None
        endpoint = config.get("endpoint") if isinstance(config, dict) else None
        token = config.get("verificationToken") if isinstance(config, dict) else None
        # eBay delivers over HTTPS only; plain http is accepted for local runs (⚠️).
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return error_response(ENDPOINT_INVALID)
        if not isinstance(token, str) or not 32 <= len(token) <= 80:
            return error_response(VERIFICATION_TOKEN_INVALID, long_message="32-80 characters")
        if any(d.endpoint == endpoint for d in self.destinations.values()):
            return error_response(DESTINATION_EXISTS)
        status = body.get("status") or "ENABLED"
        if status not in ("ENABLED", "DISABLED"):
            return error_response(DESTINATION_STATUS_INVALID)
        if not await self._challenge(endpoint, token):
            return error_response(CHALLENGE_FAILED)
        dest = Destination(
            destination_id=secrets.token_hex(8),
            name=str(body.get("name") or endpoint),
            endpoint=endpoint,
            verification_token=token,
            status=str(status),
        )
        self.destinations[dest.destination_id] = dest
        location = f"{request.base_url}{PREFIX.lstrip('/')}/destination/{dest.destination_id}"
        return created(location)

    async def challenge(self, endpoint: str, token: str) -> bool:
        """Whether `endpoint` answers a fresh challenge for `token` (updates prove it too)."""
        return await self._challenge(endpoint, token)

    async def _challenge(self, endpoint: str, token: str) -> bool:
        """GET endpoint?challenge_code=…; the answer must hold the expected hash."""
        code = secrets.token_hex(16)
        client = self._client or httpx.AsyncClient()
        try:
            answer = await client.get(endpoint, params={"challenge_code": code}, timeout=10)
            doc = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return False
        finally:
            if self._client is None:
                await client.aclose()
        got = doc.get("challengeResponse") if isinstance(doc, dict) else None
        return got == challenge_response(code, token, endpoint)

    async def create_subscription(self, request: Request) -> Response:
        if self.alert_email is None:
            return error_response(CONFIG_MISSING)
        body = await request.json()
        topic = body.get("topicId") if isinstance(body, dict) else None
        destination = body.get("destinationId") if isinstance(body, dict) else None
        if topic not in TOPICS:
            return error_response(TOPIC_INVALID)
        if destination not in self.destinations:
            return error_response(DESTINATION_UNKNOWN)
        # ⚠️ One subscription per topic for the app (and user): eBay answers 195012.
        if any(s.topic == topic for s in self.subscriptions.values()):
            return error_response(SUBSCRIPTION_EXISTS)
        status = str(body.get("status") or "ENABLED")
        if status == "ENABLED" and self.destinations[str(destination)].status != "ENABLED":
            return error_response(DESTINATION_NOT_ENABLED)
        sub = Subscription(
            number=next(self._numbers),
            subscription_id=secrets.token_hex(8),
            topic=str(topic),
            destination_id=str(destination),
            status=status,
            created=self.clock.now(),
        )
        self.subscriptions[sub.subscription_id] = sub
        location = f"{request.base_url}{PREFIX.lstrip('/')}/subscription/{sub.subscription_id}"
        return created(location)

    async def public_key(self, request: Request) -> Response:
        if request.path_params["kid"] != self.key.kid:
            return error_response(KEY_NOT_FOUND)
        return JSONResponse(
            {"algorithm": "ECDSA", "digest": "SHA1", "key": self.key.public_pem_one_line()}
        )

    # --- pushes -----------------------------------------------------------------------

    def order_placed(self, order: Order) -> None:
        """One ORDER_CONFIRMATION per line item, to every enabled subscription."""
        for sub in self.subscriptions.values():
            dest = self.destinations.get(sub.destination_id)
            if sub.topic != "ORDER_CONFIRMATION" or sub.status != "ENABLED" or dest is None:
                continue
            for line in order.lines:
                self.sender.enqueue(
                    Delivery(
                        subscription_id=sub.number,
                        topic=sub.topic,
                        url=dest.endpoint,
                        render=self._renderer(order, line),
                    )
                )

    def _renderer(self, order: Order, line: Line) -> Callable[[], Rendered]:
        notification_id = secrets.token_hex(16)  # stable across duplicates of this push

        def render() -> Rendered:
            body = json.dumps(
                self.payload(order, line, notification_id), separators=(",", ":")
            ).encode()
            headers = (
                ("Content-Type", "application/json"),
                (SIGNATURE_HEADER, self.key.header(body)),
            )
            return Rendered(body=body, headers=headers)

        return render

    def payload(self, order: Order, line: Line, notification_id: str) -> dict[str, object]:
        """The envelope of the AsyncAPI contract; `data` beyond orderId is ⚠️ assumed."""
        return {
            "metadata": {
                "topic": "ORDER_CONFIRMATION",
                "schemaVersion": "1.0",
                "deprecated": False,
            },
            "notification": {
                "notificationId": notification_id,
                "eventDate": iso(order.created),
                "publishDate": iso(self.clock.now()),
                "publishAttemptCount": 1,
                "data": {
                    "orderId": order.order_id,
                    "lineItemId": line.line_id,
                    "itemId": line.legacy_item_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                },
            },
        }
