"""Notifications API v1 for the sandbox: destinations (SQS queues and EventBridge, grantless)
and the seller's subscriptions by notification type, kept in `Notifications`, which
publishes each notification to the destination of its type's subscription.

Amazon sends each type on one channel (ORDER_CHANGE by SQS, LISTINGS_ITEM_MFN_QUANTITY_CHANGE
by EventBridge) and keeps one subscription per type for an application and seller."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import error_list, request_id, standard_error
from omnistock.kit.sandbox.amazon.representation import Obj

PREFIX = "/notifications/v1"
SQS_ARN = re.compile(r"^arn:aws:sqs:\S+:\S+:\S+")
EVENTBRIDGE_SOURCE = "aws.partner/sellingpartnerapi.amazon"
# The delivery channel each type Amazon sends on (SP-API notification type table).
CHANNELS = {
    "ORDER_CHANGE": "sqs",
    "FBA_INVENTORY_AVAILABILITY_CHANGES": "sqs",
    "FEED_PROCESSING_FINISHED": "sqs",
    "REPORT_PROCESSING_FINISHED": "sqs",
    "ANY_OFFER_CHANGED": "sqs",
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "eventBridge",
    "LISTINGS_ITEM_STATUS_CHANGE": "eventBridge",
    "LISTINGS_ITEM_ISSUES_CHANGE": "eventBridge",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    destination_id: str
    name: str
    resource: Obj  # {"sqs": {"arn"}} or {"eventBridge": {"name", "region", "accountId"}}

    @property
    def channel(self) -> str:
        return next(iter(self.resource))

    @property
    def key(self) -> str:
        """What a bridge consumes: the queue's ARN, or the account's event bus in a region."""
        return resource_key(self.resource)

    def to_json(self) -> Obj:
        return {"name": self.name, "destinationId": self.destination_id, "resource": self.resource}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSubscription:
    subscription_id: str
    notification_type: str
    destination_id: str
    payload_version: str

    def to_json(self) -> Obj:
        return {
            "subscriptionId": self.subscription_id,
            "payloadVersion": self.payload_version,
            "destinationId": self.destination_id,
        }


def resource_key(resource: Obj) -> str:
    sqs = resource.get("sqs")
    if isinstance(sqs, dict):
        return str(sqs["arn"])
    bridge = resource["eventBridge"]
    if not isinstance(bridge, dict):
        raise ValueError("not a destination resource")
    return f"eventbridge:{bridge['accountId']}:{bridge['region']}"


def _invalid(details: str) -> JSONResponse:
    return standard_error(400, details)


def _ok(payload: object) -> JSONResponse:
    return JSONResponse({"payload": payload}, headers={"x-amzn-RequestId": request_id()})


class NotificationsApi:
    """Handlers; `destinations` and `subscriptions` are what deliveries follow."""

    def __init__(self, application_id: str) -> None:
        self._application_id = application_id
        self.destinations: dict[str, Destination] = {}
        self.subscriptions: dict[str, ApiSubscription] = {}  # by notification type

    def destination_of(self, notification_type: str) -> tuple[str, Destination] | None:
        """The subscription id and destination notifications of this type go to."""
        sub = self.subscriptions.get(notification_type)
        dest = self.destinations.get(sub.destination_id) if sub else None
        return None if sub is None or dest is None else (sub.subscription_id, dest)

    # --- destinations (grantless) ----------------------------------------------------

    async def get_destinations(self, request: Request) -> Response:
        return _ok([d.to_json() for d in self.destinations.values()])

    async def create_destination(self, request: Request) -> Response:
        body = await _body(request)
        name, spec = body.get("name"), body.get("resourceSpecification")
        if not isinstance(name, str) or not name or len(name) > 256 or not isinstance(spec, dict):
            return _invalid("name and resourceSpecification are required")
        resource = self._resource(spec)
        if isinstance(resource, Response):
            return resource
        key = resource_key(resource)
        if any(d.key == key for d in self.destinations.values()):
            # ⚠️ the model declares 409; the message is the sandbox's.
            return error_list(409, "Conflict", "A destination with this resource already exists.")
        dest = Destination(destination_id=str(uuid.uuid4()), name=name, resource=resource)
        self.destinations[dest.destination_id] = dest
        return _ok(dest.to_json())

    def _resource(self, spec: Obj) -> Obj | Response:
        """Exactly one of sqs {arn} and eventBridge {accountId, region}."""
        sqs, bridge = spec.get("sqs"), spec.get("eventBridge")
        if (sqs is None) == (bridge is None):
            return _invalid("resourceSpecification needs exactly one of sqs and eventBridge")
        if isinstance(sqs, dict):
            arn = sqs.get("arn")
            if not isinstance(arn, str) or not SQS_ARN.match(arn) or len(arn) > 1000:
                return _invalid("sqs.arn is not an SQS queue ARN")
            return {"sqs": {"arn": arn}}
        if not isinstance(bridge, dict):
            return _invalid("eventBridge must be an object")
        account, region = bridge.get("accountId"), bridge.get("region")
        if not isinstance(account, str) or not account.isdigit() or not isinstance(region, str):
            return _invalid("eventBridge needs accountId and region")
        name = f"{EVENTBRIDGE_SOURCE}/{account}/{self._application_id}"
        return {"eventBridge": {"name": name, "region": region, "accountId": account}}

    async def get_destination(self, request: Request) -> Response:
        dest = self.destinations.get(request.path_params["destination_id"])
        if dest is None:
            return standard_error(404)
        return _ok(dest.to_json())

    async def delete_destination(self, request: Request) -> Response:
        dest_id = request.path_params["destination_id"]
        if self.destinations.pop(dest_id, None) is None:
            return standard_error(404)
        for kind, sub in list(self.subscriptions.items()):
            if sub.destination_id == dest_id:
                del self.subscriptions[kind]  # a subscription cannot outlive its destination
        return JSONResponse({}, headers={"x-amzn-RequestId": request_id()})

    # --- subscriptions --------------------------------------------------------------

    async def get_subscription(self, request: Request) -> Response:
        kind = request.path_params["notification_type"]
        if kind not in CHANNELS:
            return _invalid(f"{kind} is not a notification type")
        sub = self.subscriptions.get(kind)
        if sub is None:
            return standard_error(404, f"No subscription for {kind}")
        return _ok(sub.to_json())

    async def create_subscription(self, request: Request) -> Response:
        kind = request.path_params["notification_type"]
        body = await _body(request)
        version, dest_id = body.get("payloadVersion"), body.get("destinationId")
        if kind not in CHANNELS or not isinstance(version, str) or not isinstance(dest_id, str):
            return _invalid("a known notificationType, payloadVersion and destinationId")
        dest = self.destinations.get(dest_id)
        if dest is None:
            return _invalid(f"destination {dest_id} does not exist")
        if dest.channel != CHANNELS[kind]:
            return _invalid(f"{kind} is delivered by {CHANNELS[kind]}, not {dest.channel}")
        if kind in self.subscriptions:
            return error_list(409, "Conflict", "Subscription already exists for this type.")
        sub = ApiSubscription(
            subscription_id=str(uuid.uuid4()),
            notification_type=kind,
            destination_id=dest_id,
            payload_version=version,
        )
        self.subscriptions[kind] = sub
        return _ok(sub.to_json())

    async def delete_subscription(self, request: Request) -> Response:
        kind = request.path_params["notification_type"]
        sub = self.subscriptions.get(kind)
        if sub is None or sub.subscription_id != request.path_params["subscription_id"]:
            return standard_error(404)
        del self.subscriptions[kind]
        return JSONResponse({}, headers={"x-amzn-RequestId": request_id()})


async def _body(request: Request) -> Obj:
    try:
        doc = await request.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
