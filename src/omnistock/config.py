"""Settings of the omnistock process, read once from OMNISTOCK_* environment variables.

Built in cli.py (the composition root) and passed down; nothing else reads the environment."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from omnistock.domain.balance import ReservationPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNISTOCK_", extra="ignore")

    database_url: str = "sqlite:///omnistock.db"
    reservation_policy: ReservationPolicy = ReservationPolicy.REJECT
