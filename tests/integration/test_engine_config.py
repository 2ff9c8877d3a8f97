"""The engine's TOML configuration: the shipped example loads; bad files say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnistock.adapters.amazon import AmazonSettings
from omnistock.adapters.registry import PLATFORMS
from omnistock.domain.account_settings import AccountSettings, OversellAction
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import LocationId
from omnistock.engine_config import Catalog, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "omnistock.toml"
AMAZON = (
    '[[locations]]\nid = "main"\n[[accounts]]\nid = "amz"\nplatform = "amazon"\n'
    'base_url = "https://sellingpartnerapi-eu.amazon.com"\nlocation = "main"'
)


def test_the_shipped_example_loads_into_a_valid_catalog() -> None:
    config = load_config(EXAMPLE)
    catalog = Catalog(config)
    assert [a.id for a in catalog.accounts] == ["woo-eu"]
    assert catalog.accounts[0].policy.safety_buffer == 1
    assert catalog.accounts[0].settings["location"] == "main"
    gift = next(x for x in catalog.listings if x.sku == "GIFT-SET")
    assert gift.id == "woo-eu:GIFT-SET"
    assert gift.override.max_shown == 5
    assert gift.external_ids == {"product_id": "31", "variation_id": "32"}
    assert catalog.bundles[0].components[0].sku == "MUG"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("locations = [", "Invalid"),
        ('[[locations]]\nid = "main"\nsurprise = 1', "locations.0.surprise"),
        (
            'locations = []\n[[accounts]]\nid = "a"\nplatform = "woocommerce"\n'
            'base_url = "https://x"\nlocation = "nowhere"',
            "unknown location",
        ),
        (
            '[[locations]]\nid = "main"\n[[listings]]\naccount = "ghost"\nsku = "A"\n'
            "external_ids = {}",
            "unknown account",
        ),
        (
            '[[locations]]\nid = "main"\n[[accounts]]\nid = "a"\nplatform = "Woo Commerce"\n'
            'base_url = "https://x"\nlocation = "main"',
            "account 'a': platform: Value error, unknown platform 'Woo Commerce'; known: woo",
        ),
        (
            '[[locations]]\nid = "main"\n[[accounts]]\nid = "a"\nplatform = "woocommerce"\n'
            'base_url = "https://x"\nlocation = "main"\npolicy = { share = 2.0 }',
            "share",
        ),
        (
            '[[locations]]\nid = "main"\n[[accounts]]\nid = "woo"\nplatform = "woocommerce"\n'
            'base_url = "https://x"\nlocation = "main"\noversell = "maybe"',
            "account 'woo': oversell: Input should be 'keep' or 'cancel'",
        ),
        (
            '[[locations]]\nid = "main"\n[[accounts]]\nid = "woo"\nplatform = "woocommerce"\n'
            'base_url = "shop.example"\nlocation = "main"',
            "account 'woo': base_url: Value error, must be an http",
        ),
        (
            f'{AMAZON}\nmarketplace_id = "us"',
            "account 'amz': Value error, settings\\[marketplace_id\\]: must be an Amazon "
            "marketplace id such as ATVPDKIKX0DER; got 'us'",
        ),
        (
            f'{AMAZON}\nlanguage = "de-DE"',
            "account 'amz': Value error, unknown key language for platform amazon "
            "\\(its own settings: marketplace_id, notification_queue\\)",
        ),
        (
            '[[locations]]\nid = "main"\n[[accounts]]\nid = "woo"\nplatform = "woocommerce"\n'
            'base_url = "https://x"\nlocation = "main"\nmarketplace_id = "A1PA6795UKMFR9"',
            "unknown key marketplace_id for platform woocommerce \\(its own settings: none\\)",
        ),
        (f"{AMAZON}\nmarketplace_id = 7", "account 'amz': Value error, marketplace_id: must be"),
    ],
)
def test_bad_configuration_names_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        Catalog(load_config(path))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_config(tmp_path / "missing.toml")


def test_an_account_s_settings_are_typed_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(
        '[[locations]]\nid = "main"\n[[accounts]]\nid = "woo"\nplatform = "woocommerce"\n'
        'base_url = "https://shop.example/wp-json/wc/v3/"\nlocation = "main"\n'
        'oversell = "cancel"\nrestock_on_refund = true'
    )
    (account,) = Catalog(load_config(path)).accounts
    assert account.options() == AccountSettings(
        base_url="https://shop.example/wp-json/wc/v3/",
        location=LocationId("main"),
        oversell=OversellAction.CANCEL,
        restock_on_refund=True,
    )


def test_a_platform_s_own_settings_are_typed_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(f'{AMAZON}\nmarketplace_id = "A1PA6795UKMFR9"\noversell = "cancel"')
    (account,) = Catalog(load_config(path)).accounts
    settings = PLATFORMS["amazon"].settings.of(account.settings)
    assert settings == AmazonSettings(
        base_url="https://sellingpartnerapi-eu.amazon.com",
        location=LocationId("main"),
        oversell=OversellAction.CANCEL,
        marketplace_id="A1PA6795UKMFR9",
    )
    assert account.options().oversell is OversellAction.CANCEL  # the common part, as before
