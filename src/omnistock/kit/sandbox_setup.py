"""What `omnistock sandbox PLATFORM` announces: everything an `omnistock run` configuration
needs to trade with the served sandbox, as one JSON line and, on request, as TOML.

The account is described as the kit's merchant describes its stores (`MerchantStore.info`),
and written with the same `engine_toml`/`credential_env`, so the two never disagree."""

from __future__ import annotations

import json
from collections.abc import Callable

from omnistock.adapters.registry import PLATFORMS
from omnistock.domain.ids import AccountId
from omnistock.kit.merchant import (
    SHORT_NAMES,
    MerchantStore,
    StoreInfo,
    credential_env,
    engine_toml,
)
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX
from omnistock.kit.sandbox.common.storefront import Storefront

# Up to this many listings are printed with their external ids; beyond, their count and
# the admin route that pages through them.
LISTINGS_SHOWN = 50
DATABASE_URL = "sqlite:///omnistock.db"
LISTEN = "127.0.0.1:8700"


def account_of(sandbox: Storefront, base_url: str) -> StoreInfo:
    """The sandbox as one account of `omnistock run` (named as the kit names its stores)."""
    name = AccountId(f"{SHORT_NAMES.get(sandbox.platform, sandbox.platform)}-1")
    return MerchantStore(name, sandbox.platform, sandbox, base_url).info()


def describe(sandbox: Storefront, base_url: str) -> dict[str, object]:
    """The announcement: where it is, the account's API root, settings and credentials
    (each with the variable `omnistock run` reads it from), and its listings. Raises
    KeyError when the sandbox lacks a credential its platform requires."""
    info = account_of(sandbox, base_url)
    required = PLATFORMS[info.platform].credentials
    missing = [name for name in required if name not in info.credentials]
    if missing:
        raise KeyError(f"the {info.platform} sandbox gives no {', '.join(missing)}")
    admin_url = base_url + ADMIN_PREFIX
    described: dict[str, object] = {
        "platform": info.platform,
        "base_url": base_url,
        "admin_url": admin_url,
        "account": info.account,
        "api_base_url": info.base_url,
        "settings": dict(info.settings),
        "credentials": dict(info.credentials),
        "required_credentials": list(required),
        "env": credential_env([info]),
        "listings_count": len(info.listings),
        "listings_url": f"{admin_url}/listings",
    }
    if len(info.listings) <= LISTINGS_SHOWN:
        described["listings"] = [
            {"sku": x.sku, "external_ids": dict(x.external_ids)} for x in info.listings
        ]
    return described


def ready_line(sandbox: Storefront, base_url: str) -> str:
    return json.dumps(describe(sandbox, base_url))


def announcement(*, with_toml: bool) -> Callable[[Storefront, str], str]:
    """What `omnistock sandbox` prints once listening: the JSON line, then the TOML."""

    def announce(sandbox: Storefront, base_url: str) -> str:
        line = ready_line(sandbox, base_url)
        return f"{line}\n{config_toml(sandbox, base_url)}" if with_toml else line

    return announce


def config_toml(sandbox: Storefront, base_url: str) -> str:
    """A configuration `omnistock run --config` loads: the account, its items and listings
    (credentials stay in the environment: `describe`'s `env`)."""
    return engine_toml([account_of(sandbox, base_url)], database_url=DATABASE_URL, listen=LISTEN)
