"""`omnistock sandbox PLATFORM` says everything a configuration needs: the TOML it prints
loads, the credentials it prints let the registry's adapter read the sandbox, and its admin
URL answers with an index of the admin routes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from omnistock.adapters.base import ListingRef
from omnistock.adapters.registry import PLATFORMS
from omnistock.clock import ManualTimer
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.engine_config import load_config
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.registry import SANDBOXES, serve
from omnistock.kit.sandbox_setup import LISTINGS_SHOWN, announcement, config_toml, describe
from omnistock.security.vault import credentials_for

BASE = "http://sandbox.test"


@pytest.mark.parametrize("platform", list(SANDBOXES))
async def test_the_printed_config_loads_and_its_credentials_read_the_sandbox(
    platform: str, tmp_path: Path
) -> None:
    face = SANDBOXES[platform](SandboxOptions(base_url=BASE, seed=3, skus=6))
    said = describe(face, BASE)
    env = said["env"]
    assert isinstance(env, dict)
    required, given = said["required_credentials"], said["credentials"]
    assert isinstance(required, list)
    assert isinstance(given, dict)
    assert set(required) <= set(given)
    path = tmp_path / "omnistock.toml"
    path.write_text(config_toml(face, BASE))
    config = load_config(path)
    (account,) = config.accounts
    assert account.base_url == said["api_base_url"]
    # As `omnistock run` builds the adapter (runner.build_adapters), routed in process.
    entry = PLATFORMS[platform]
    secrets = credentials_for(account.id, entry.credentials, None, env)
    settings = entry.settings.of(account.settings().encode())
    adapter = entry.create_adapter(
        AccountId(account.id),
        settings,
        secrets,
        timer=ManualTimer(),
        transport=httpx.ASGITransport(app=face.app),
    )
    refs = [
        ListingRef(
            listing=ListingId(f"{x.account}:{x.sku}"), sku=Sku(x.sku), external_ids=x.external_ids
        )
        for x in config.listings
    ]
    assert refs
    levels = await adapter.read(refs)
    assert [lv.quantity for lv in levels] == [face.shown_of(r.sku) for r in refs]
    await adapter.aclose()


@pytest.mark.parametrize("platform", list(SANDBOXES))
async def test_the_admin_url_indexes_the_admin_routes_and_lists_listings(platform: str) -> None:
    face = SANDBOXES[platform](SandboxOptions(base_url=BASE, seed=3, skus=LISTINGS_SHOWN + 5))
    said = describe(face, BASE)
    assert "listings" not in said  # too many: counted, and the admin URL lists them
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=face.app)) as http:
        index = await http.get(str(said["admin_url"]))
        assert index.status_code == 200
        paths = {r["path"] for r in index.json()["routes"]}
        assert {"/_sandbox", "/_sandbox/faults", "/_sandbox/listings"} <= paths
        page = (await http.get(str(said["listings_url"]), params={"limit": 1000})).json()
    assert page["count"] == said["listings_count"] == len(page["listings"])
    assert page["listings"] == [
        {"sku": x.sku, "external_ids": dict(x.external_ids)} for x in face.listings()
    ]


async def test_the_served_sandbox_prints_its_line_then_toml(tmp_path: Path) -> None:
    said: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(
        serve(
            "woocommerce",
            port=0,
            skus=4,
            ready=said.put_nowait,
            announce=announcement(with_toml=True),
        )
    )
    try:
        line, toml = (await asyncio.wait_for(said.get(), timeout=10)).split("\n", 1)
        described = json.loads(line)
        assert described["env"]["OMNISTOCK_CRED_WOO_1_WEBHOOK_SECRET"]
        assert described["api_base_url"].endswith("/wp-json/wc/v3/")
        assert len(described["listings"]) == described["listings_count"] == 4
        (tmp_path / "omnistock.toml").write_text(toml)
        assert load_config(tmp_path / "omnistock.toml").accounts[0].id == "woo-1"
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(described["admin_url"])).status_code == 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
