"""An account's settings, typed from the catalog's map of names to text."""

from __future__ import annotations

import pytest

from omnistock.domain.account_settings import AccountSettings, OversellAction
from omnistock.domain.catalog import ChannelAccount
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, LocationId


def test_unset_settings_have_their_defaults() -> None:
    assert AccountSettings.of({}) == AccountSettings()
    assert AccountSettings.of({"restock_on_refund": ""}).restock_on_refund is False


def test_known_settings_are_read_typed_and_others_are_left_to_the_platform() -> None:
    raw = {
        "base_url": "https://shop.example/api/",
        "location": "wh1",
        "oversell": "cancel",
        "restock_on_refund": "TRUE",
        "region": "eu",
    }
    assert AccountSettings.of(raw) == AccountSettings(
        base_url="https://shop.example/api/",
        location=LocationId("wh1"),
        oversell=OversellAction.CANCEL,
        restock_on_refund=True,
    )


@pytest.mark.parametrize(
    "settings",
    [
        AccountSettings(),
        AccountSettings(base_url="http://x", location=LocationId("w"), restock_on_refund=True),
    ],
)
def test_the_stored_form_reads_back_to_the_same_settings(settings: AccountSettings) -> None:
    assert AccountSettings.of(settings.encode()) == settings


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        ({"oversell": "maybe"}, "account.settings[oversell]", "one of keep, cancel; got 'maybe'"),
        ({"restock_on_refund": "yes"}, "account.settings[restock_on_refund]", "true or false"),
        ({"location": " padded"}, "account.settings[location]", "white space"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(raw: dict[str, str], field: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        AccountSettings.of(raw)
    assert caught.value.field == field
    assert problem in str(caught.value)


def test_an_account_with_a_bad_setting_does_not_validate() -> None:
    account = ChannelAccount(id=AccountId("a"), platform="woo", settings={"oversell": "x"})
    with pytest.raises(InvalidInputError, match="oversell"):
        account.validate()
