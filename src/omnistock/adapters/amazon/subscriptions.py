"""Amazon notification registration through the Notifications API v1: a destination per
delivery channel and the seller's subscription per type that events.py reads.

Amazon sends ORDER_CHANGE to an SQS queue and LISTINGS_ITEM_MFN_QUANTITY_CHANGE to
EventBridge; the target is the queue's ARN (the account's `notification_queue` setting), and
the EventBridge destination is the event bus of the queue's AWS account and region. The
merchant's bridge reads both and POSTs them signed to omnistock (README "Notifications").
Subscriptions belong to the application and seller, one per type: every one is omnistock's
own, and one going elsewhere is replaced. Destinations belong to the application (other
sellers' subscriptions may use them): found by resource, created as "omnistock-...", and
never deleted here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from omnistock.adapters.amazon.limits import Operation
from omnistock.adapters.base import Subscription, SubscriptionReport
from omnistock.adapters.subscribing import OWN_PREFIX, Held, plan_register, plan_remove
from omnistock.domain.errors import PermanentError

PREFIX = "/notifications/v1"
PAYLOAD_VERSION = "1.0"
SQS, EVENTBRIDGE = "sqs", "eventBridge"
# The types events.NotificationParser reads, and the channel Amazon sends each on.
CHANNELS: Mapping[str, str] = {
    "ORDER_CHANGE": SQS,
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": EVENTBRIDGE,
}
TOPICS = tuple(CHANNELS)


class Caller(Protocol):
    async def __call__(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        json: object = None,
        grantless: bool = False,
    ) -> object:
        """The answer's JSON body; raises the ChannelError a refusal means."""
        ...


def resources(queue_arn: str) -> dict[str, dict[str, str]]:
    """Each channel's destination resource for the queue: itself, and the event bus of its
    AWS account and region. Raises ValueError for what is not an SQS ARN."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"]:
        raise ValueError(f"not an SQS queue ARN: {queue_arn!r}")
    region, account = parts[3], parts[4]
    return {SQS: {"arn": queue_arn}, EVENTBRIDGE: {"accountId": account, "region": region}}


def target_of(channel: str, resource: Mapping[str, object]) -> str:
    """A destination as a report names it: the queue's ARN, or eventbridge:ACCOUNT:REGION."""
    if channel == SQS:
        return str(resource["arn"])
    return f"eventbridge:{resource['accountId']}:{resource['region']}"


@dataclass(frozen=True, slots=True)
class Destination:
    id: str
    channel: str
    target: str


def destinations_of(body: object) -> list[Destination]:
    """getDestinations' payload. Raises ValueError (KeyError included) if it is not one."""
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, list):
        raise ValueError("getDestinations payload is not a list")
    found = []
    for row in payload:
        resource = row["resource"]
        channel = SQS if resource.get(SQS) else EVENTBRIDGE
        found.append(
            Destination(str(row["destinationId"]), channel, target_of(channel, resource[channel]))
        )
    return found


def subscription_of(body: object, kind: str, destinations: Mapping[str, Destination]) -> Held:
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict):
        raise ValueError(f"no {kind} subscription in the answer")
    dest = destinations.get(str(payload["destinationId"]))
    sub = Subscription(
        topic=kind, target=dest.target if dest else "", id=str(payload["subscriptionId"])
    )
    return Held(subscription=sub, ours=True)


@dataclass(slots=True, kw_only=True)
class AmazonSubscriptions:
    call: Caller
    account: str

    async def destinations(self) -> dict[str, Destination]:
        body = await self.call(
            Operation.GET_DESTINATIONS, "GET", f"{PREFIX}/destinations", grantless=True
        )
        return {d.id: d for d in destinations_of(body)}

    async def held(self, destinations: Mapping[str, Destination]) -> list[Held]:
        """The seller's subscription of each type (Amazon answers 404 for none)."""
        found = []
        for kind in TOPICS:
            try:
                body = await self.call(
                    Operation.GET_SUBSCRIPTION, "GET", f"{PREFIX}/subscriptions/{kind}"
                )
            except PermanentError as error:
                if error.status == 404:
                    continue
                raise
            found.append(subscription_of(body, kind, destinations))
        return found

    async def register(self, queue_arn: str) -> SubscriptionReport:
        wanted = resources(queue_arn)
        destinations = await self.destinations()
        by_channel = {c: await self._destination(c, r, destinations) for c, r in wanted.items()}
        destinations = await self.destinations()
        held = await self.held(destinations)
        created: list[Subscription] = []
        report = SubscriptionReport()
        for kind, channel in CHANNELS.items():
            dest = by_channel[channel]
            plan = plan_register(
                [h for h in held if h.subscription.topic == kind], (kind,), dest.target
            )
            for sub in plan.remove:  # one per type: the old one goes first
                await self._delete(sub)
            if plan.create:
                created.append(await self._subscribe(kind, dest))
            report = _merged(report, plan.report(()))
        return _merged(report, SubscriptionReport(created=tuple(created)))

    async def remove(self, queue_arn: str) -> SubscriptionReport:
        targets = {target_of(c, r) for c, r in resources(queue_arn).items()}
        held = await self.held(await self.destinations())
        report = SubscriptionReport()
        for target in targets:
            plan = plan_remove(held, TOPICS, target)
            for sub in plan.remove:
                await self._delete(sub)
            report = _merged(report, plan.report(()))
        return report

    async def _destination(
        self, channel: str, resource: dict[str, str], known: Mapping[str, Destination]
    ) -> Destination:
        target = target_of(channel, resource)
        found = next((d for d in known.values() if d.target == target), None)
        if found is not None:
            return found
        body = {
            "name": f"{OWN_PREFIX}-{self.account}-{channel.lower()}",
            "resourceSpecification": {channel: resource},
        }
        answer = await self.call(
            Operation.CREATE_DESTINATION,
            "POST",
            f"{PREFIX}/destinations",
            json=body,
            grantless=True,
        )
        payload = answer.get("payload") if isinstance(answer, dict) else None
        if not isinstance(payload, dict):
            raise ValueError("createDestination answered no destination")
        return Destination(str(payload["destinationId"]), channel, target)

    async def _subscribe(self, kind: str, dest: Destination) -> Subscription:
        body = {"payloadVersion": PAYLOAD_VERSION, "destinationId": dest.id}
        answer = await self.call(
            Operation.CREATE_SUBSCRIPTION, "POST", f"{PREFIX}/subscriptions/{kind}", json=body
        )
        return subscription_of(answer, kind, {dest.id: dest}).subscription

    async def _delete(self, sub: Subscription) -> None:
        await self.call(
            Operation.DELETE_SUBSCRIPTION,
            "DELETE",
            f"{PREFIX}/subscriptions/{sub.topic}/{sub.id}",
            grantless=True,
        )


def _merged(a: SubscriptionReport, b: SubscriptionReport) -> SubscriptionReport:
    return SubscriptionReport(
        created=a.created + b.created, kept=a.kept + b.kept, removed=a.removed + b.removed
    )
