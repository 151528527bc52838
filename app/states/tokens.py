"""State of the API tokens page: the list (no secrets) and a new token, shown once."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.views import present
from app.services.engine_service import service
from app.services.offloop import off_loop
from app.states.guard import admin_only, caller
from app.states.session import record


class TokensState(rx.State):
    """Tokens as shown to people, the token just created, the last problem."""

    tokens: list[dict[str, str]] = []
    new_token: str = ""
    problem: str = ""

    @rx.event
    async def load(self) -> None:
        self.new_token = ""
        await self._refresh()

    async def _refresh(self) -> None:
        self.tokens = await off_loop(_token_rows)

    @rx.event
    @admin_only("create tokens")
    async def create(self, form_data: dict[str, Any]) -> None:
        self.new_token = await off_loop(_create, str(form_data.get("label") or "").strip())
        self.problem = ""
        await self._refresh()

    @rx.event
    @admin_only("delete tokens")
    async def delete(self, prefix: str) -> None:
        from app.services.accounts import AccountError

        try:
            await off_loop(_delete, prefix)
        except AccountError as exc:
            self.problem = str(exc)
        await self._refresh()


def _token_rows() -> list[dict[str, str]]:
    return [{"prefix": row["token_prefix"], "label": row["label"], "owner": row["owner"],
             "created": present.when(row["created_at"])} for row in service.accounts.list_tokens()]


def _create(label: str) -> str:
    """A new token of the caller's (audited)."""
    token = service.accounts.create_token(caller(), label)
    record("token.created", token[:10], label)
    return token


def _delete(prefix: str) -> None:
    service.accounts.delete_token(prefix)
    record("token.deleted", prefix)
