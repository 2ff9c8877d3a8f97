"""An eBay account's settings: the common ones, the alert email of the application's
Notification API config (`PUT /commerce/notification/v1/config`, which eBay requires before
it accepts a destination; registration sets it when the application has none) and the
endpoint notifications are registered for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import InvalidInputError

ALERT_EMAIL = "alert_email"
# The public URL of the account's webhook route, exactly as registered with eBay: the
# endpoint challenge is answered with it (`omnistock accounts connect` registers it).
NOTIFICATION_ENDPOINT = "notification_endpoint"


@dataclass(frozen=True, slots=True, kw_only=True)
class EbaySettings(AccountSettings):
    alert_email: str | None = None
    notification_endpoint: str | None = None

    # super() with no arguments fails in a slotted dataclass (the class is rebuilt).
    @classmethod
    def _read(cls, raw: Mapping[str, str], where: str) -> dict[str, Any]:
        email = raw.get(ALERT_EMAIL) or None
        if email is not None and ("@" not in email or email != email.strip()):
            raise InvalidInputError(f"{where}[{ALERT_EMAIL}]", f"not an email address: {email!r}")
        endpoint = raw.get(NOTIFICATION_ENDPOINT) or None
        if endpoint is not None and not endpoint.startswith(("https://", "http://")):
            raise InvalidInputError(f"{where}[{NOTIFICATION_ENDPOINT}]", "must be an http(s) URL")
        common = super(EbaySettings, cls)._read(raw, where)
        return {**common, "alert_email": email, "notification_endpoint": endpoint}

    def encode(self) -> dict[str, str]:
        stored = AccountSettings.encode(self)
        if self.alert_email is not None:
            stored[ALERT_EMAIL] = self.alert_email
        if self.notification_endpoint is not None:
            stored[NOTIFICATION_ENDPOINT] = self.notification_endpoint
        return stored
