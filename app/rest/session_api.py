"""Logging in to and out of the web app: plain HTML form posts that set or clear the cookie.

The login page posts its form here; the answer is a redirect (303) to where the person
was going, with the session cookie (HttpOnly, SameSite=Lax, Secure over https), or back
to the login page with a reason it can show. Page JavaScript never sees the secret.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from app import routes
from app.rest import users
from app.services.accounts import LoginRefused
from app.services.offloop import DatabaseUnavailable, off_loop
from app.services.sessions import COOKIE, LIFETIME_SECONDS, same_origin, secret_from


def _service() -> Any:
    from app.services.engine_service import service

    return service


def over_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return (forwarded or request.url.scheme) == "https"


def _back_to_login(target: str, failed: str, wait: float = 0.0) -> Response:
    query = {"failed": failed, **({"wait": str(math.ceil(wait))} if wait else {}), "next": target}
    return RedirectResponse(f"{routes.LOGIN}?{urlencode(query)}", 303)


async def log_in(request: Request) -> Response:
    """Form fields `username`, `password`, `next`; answers a redirect (see the module)."""
    if not same_origin(request.headers):
        return PlainTextResponse("a login must come from this app's own login page", 403)
    form = await request.form()
    target = routes.safe_next(str(form.get("next") or ""))
    try:
        secret = await off_loop(_start_session, str(form.get("username") or ""), str(form.get("password") or ""),
                                users.address(request))
    except LoginRefused as exc:
        return _back_to_login(target, routes.THROTTLED if exc.wait else routes.WRONG, exc.wait)
    except DatabaseUnavailable as exc:
        return PlainTextResponse(str(exc), 503)
    response = RedirectResponse(target, 303)
    response.set_cookie(COOKIE, secret, max_age=LIFETIME_SECONDS,
                        path="/", secure=over_https(request), httponly=True, samesite="lax")
    return response


def _start_session(username: str, password: str, address: str) -> str:
    """A new session's secret, after a successful login (else LoginRefused)."""
    accounts = _service().accounts
    return accounts.sessions.start(accounts.login(username, password, address, "web").username)


async def log_out(request: Request) -> Response:
    """End the session server-side and clear the cookie; back to the login page."""
    if not same_origin(request.headers):
        return PlainTextResponse("a logout must come from this app's own pages", 403)
    try:
        await off_loop(_end_session, secret_from(request.headers))
    except DatabaseUnavailable as exc:
        return PlainTextResponse(str(exc), 503)
    response = RedirectResponse(routes.LOGIN, 303)
    response.delete_cookie(COOKIE, path="/", secure=over_https(request), httponly=True, samesite="lax")
    return response


def _end_session(secret: str) -> None:
    accounts = _service().accounts
    who = accounts.session_caller(secret)
    accounts.sessions.end(secret)
    if who is not None:
        accounts.record(who.username, "logout", "web")


ROUTES = [Route(routes.LOGIN_PATH, log_in, methods=["POST"]), Route(routes.LOGOUT_PATH, log_out, methods=["POST"])]
