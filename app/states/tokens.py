"""State of the API tokens page: the list (no secrets) and a new token, shown once."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import present
from app.engine_service import service
from app.states.guard import admin_only, caller
from app.states.session import record


class TokensState(rx.State):
    """Tokens as shown to people, the token just created, the last problem."""

    tokens: list[dict[str, str]] = []
    new_token: str = ""
    problem: str = ""

    @rx.event
    def load(self) -> None:
        self.new_token = ""
        self._refresh()

    def _refresh(self) -> None:
        self.tokens = [{"prefix": row["token_prefix"], "label": row["label"], "owner": row["owner"],
                        "created": present.when(row["created_at"])} for row in service.accounts.list_tokens()]

    @rx.event
    @admin_only("create tokens")
    def create(self, form_data: dict[str, Any]) -> None:
        label = str(form_data.get("label") or "").strip()
        self.new_token = service.accounts.create_token(caller(), label)
        record("token.created", self.new_token[:10], label)
        self.problem = ""
        self._refresh()

    @rx.event
    @admin_only("delete tokens")
    def delete(self, prefix: str) -> None:
        from app.accounts import AccountError

        try:
            service.accounts.delete_token(prefix)
            record("token.deleted", prefix)
        except AccountError as exc:
            self.problem = str(exc)
        self._refresh()
