"""An encrypted credentials file: per account, named secrets, sealed with one master key.

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`; the key comes from
OMNISTOCK_MASTER_KEY, never from disk; writes are atomic and the file is private (0600)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import check_identifier

_ENV_NAME = re.compile(r"[^A-Z0-9]+")


def new_master_key() -> Secret:
    """A fresh key to put in OMNISTOCK_MASTER_KEY."""
    return Secret(Fernet.generate_key().decode())


class CredentialVault:
    """Named secrets per channel account in one encrypted file."""

    def __init__(self, path: Path, master_key: Secret) -> None:
        self._path = path
        try:
            self._fernet = Fernet(master_key.reveal().encode())
        except ValueError:
            raise ConfigError("OMNISTOCK_MASTER_KEY is not a valid key") from None

    def set(self, account: str, name: str, value: Secret) -> None:
        """Store (or replace) one secret of `account`."""
        check_identifier("account", account)
        check_identifier("name", name)
        data = self._load()
        data.setdefault(account, {})[name] = value.reveal()
        self._save(data)

    def remove(self, account: str, name: str) -> bool:
        """Forget one secret; False if there was none."""
        data = self._load()
        found = data.get(account, {}).pop(name, None) is not None
        if found:
            self._save({a: names for a, names in data.items() if names})
        return found

    def get(self, account: str) -> dict[str, Secret]:
        """Every secret of `account` (empty when none)."""
        return {name: Secret(v) for name, v in self._load().get(account, {}).items()}

    def names(self) -> dict[str, list[str]]:
        """Account -> the names of its secrets (never the values)."""
        return {account: sorted(names) for account, names in sorted(self._load().items())}

    def _load(self) -> dict[str, dict[str, str]]:
        if not self._path.exists():
            return {}
        try:
            plain = self._fernet.decrypt(self._path.read_bytes())
        except InvalidToken:
            raise ConfigError(
                f"{self._path}: cannot decrypt (wrong OMNISTOCK_MASTER_KEY or damaged file)"
            ) from None
        data: dict[str, dict[str, str]] = json.loads(plain)
        return data

    def _save(self, data: Mapping[str, Mapping[str, str]]) -> None:
        sealed = self._fernet.encrypt(json.dumps(data, sort_keys=True).encode())
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".vault-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
            os.replace(tmp, self._path)  # readers see the old file or the new one, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def env_name(account: str, name: str) -> str:
    """The environment variable that may carry a secret instead of the vault."""
    return (
        f"OMNISTOCK_CRED_{_ENV_NAME.sub('_', account.upper())}_{_ENV_NAME.sub('_', name.upper())}"
    )


def credentials_for(
    account: str,
    names: tuple[str, ...],
    vault: CredentialVault | None,
    environ: Mapping[str, str],
) -> dict[str, Secret]:
    """The account's secrets: the environment first, then the vault. Raises ConfigError
    naming (never showing) what is missing."""
    stored = vault.get(account) if vault is not None else {}
    found: dict[str, Secret] = {}
    for name in names:
        from_env = environ.get(env_name(account, name))
        if from_env:
            found[name] = Secret(from_env)
        elif name in stored:
            found[name] = stored[name]
    missing = [n for n in names if n not in found]
    if missing:
        variables = ", ".join(env_name(account, n) for n in missing)
        raise ConfigError(
            f"account {account}: no {', '.join(missing)} (set {variables} or use "
            f"`omnistock credentials set {account} NAME`)"
        )
    return found
