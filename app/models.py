"""The app's own tables, beside the engine's: API tokens and small settings."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """A REST API token, stored only as its SHA-256 hash."""

    __tablename__ = "app_tokens"

    token_hash: str = Field(primary_key=True)
    label: str = ""
    owner: str = "admin"
    is_admin: bool = True
    created_at: float


class AppSetting(SQLModel, table=True):
    """One named value the app keeps between starts (e.g. the approval-link secret)."""

    __tablename__ = "app_settings"

    key: str = Field(primary_key=True)
    value: str


APP_TABLES = [ApiToken.__table__, AppSetting.__table__]
