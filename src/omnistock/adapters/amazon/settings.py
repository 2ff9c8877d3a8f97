"""An Amazon account's settings: the common ones and the marketplace it sells in.

Every SP-API call omnistock makes names one marketplace (`marketplaceIds`): a seller
selling in Germany is `A1PA6795UKMFR9`, not the US default. The ids are opaque
upper-case alphanumerics (the SP-API models' examples: US `ATVPDKIKX0DER`, DE
`A1PA6795UKMFR9`, IT `APJ6JRA9NG5V4`); `getMarketplaceParticipations` lists a seller's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import InvalidInputError

MARKETPLACE_ID = "marketplace_id"
# The SQS queue Amazon sends notifications to (ORDER_CHANGE), whose AWS account and region
# also receive the EventBridge ones (LISTINGS_ITEM_MFN_QUANTITY_CHANGE); see README.
NOTIFICATION_QUEUE = "notification_queue"
SQS_ARN = re.compile(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,80}")
US_MARKETPLACE = "ATVPDKIKX0DER"
_MARKETPLACE = re.compile(r"[A-Z0-9]{10,16}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AmazonSettings(AccountSettings):
    marketplace_id: str = US_MARKETPLACE
    notification_queue: str | None = None

    # super() with no arguments fails in a slotted dataclass (the class is rebuilt), hence
    # the explicit forms below.
    @classmethod
    def _read(cls, raw: Mapping[str, str], where: str) -> dict[str, Any]:
        marketplace = raw.get(MARKETPLACE_ID) or US_MARKETPLACE
        if not _MARKETPLACE.fullmatch(marketplace):
            raise InvalidInputError(
                f"{where}[{MARKETPLACE_ID}]",
                f"must be an Amazon marketplace id such as {US_MARKETPLACE}; got {marketplace!r}",
            )
        queue = raw.get(NOTIFICATION_QUEUE) or None
        if queue is not None and not SQS_ARN.fullmatch(queue):
            raise InvalidInputError(
                f"{where}[{NOTIFICATION_QUEUE}]",
                f"must be an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME); got {queue!r}",
            )
        common = super(AmazonSettings, cls)._read(raw, where)
        return {**common, "marketplace_id": marketplace, "notification_queue": queue}

    def encode(self) -> dict[str, str]:
        stored = {**AccountSettings.encode(self), MARKETPLACE_ID: self.marketplace_id}
        if self.notification_queue is not None:
            stored[NOTIFICATION_QUEUE] = self.notification_queue
        return stored
