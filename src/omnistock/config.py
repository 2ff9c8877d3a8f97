"""Settings of the omnistock process, read once from OMNISTOCK_* environment variables.

Built in cli.py (the composition root) and passed down; nothing else reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from omnistock.domain.balance import ReservationPolicy

DEFAULT_DATABASE_URL = "sqlite:///omnistock.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNISTOCK_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = None  # the engine's TOML configuration, for commands given none
    listen: str | None = None  # where `run` serves webhooks and the API
    reservation_policy: ReservationPolicy = ReservationPolicy.REJECT
    credentials_path: Path = Path("omnistock.credentials")
    master_key: SecretStr | None = None
