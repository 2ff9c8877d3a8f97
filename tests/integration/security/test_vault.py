"""The encrypted credentials file and where an account's secrets come from."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import ConfigError
from omnistock.security.vault import CredentialVault, credentials_for, env_name, new_master_key


def test_secrets_round_trip_encrypted_and_private(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    vault = CredentialVault(path, new_master_key())
    vault.set("woo-eu", "consumer_secret", Secret("cs_very_secret"))
    assert vault.get("woo-eu")["consumer_secret"].reveal() == "cs_very_secret"
    assert b"cs_very_secret" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert vault.names() == {"woo-eu": ["consumer_secret"]}
    assert vault.remove("woo-eu", "consumer_secret") is True
    assert vault.remove("woo-eu", "consumer_secret") is False
    assert vault.names() == {}


def test_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    CredentialVault(path, new_master_key()).set("a", "k", Secret("v"))
    with pytest.raises(ConfigError, match="cannot decrypt"):
        CredentialVault(path, new_master_key()).get("a")
    with pytest.raises(ConfigError, match="not a valid key"):
        CredentialVault(path, Secret("short"))


def test_environment_wins_and_missing_names_are_named_not_shown(tmp_path: Path) -> None:
    vault = CredentialVault(tmp_path / "c.enc", new_master_key())
    vault.set("woo-eu", "consumer_key", Secret("ck_vault"))
    vault.set("woo-eu", "consumer_secret", Secret("cs_vault"))
    environ = {env_name("woo-eu", "consumer_key"): "ck_env"}
    found = credentials_for("woo-eu", ("consumer_key", "consumer_secret"), vault, environ)
    assert {k: v.reveal() for k, v in found.items()} == {
        "consumer_key": "ck_env",
        "consumer_secret": "cs_vault",
    }
    with pytest.raises(ConfigError) as caught:
        credentials_for("woo-eu", ("consumer_key", "webhook_secret"), vault, {})
    message = str(caught.value)
    assert "OMNISTOCK_CRED_WOO_EU_WEBHOOK_SECRET" in message
    assert "ck_vault" not in message
