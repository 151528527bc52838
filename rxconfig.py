"""Reflex configuration of the Millrace web app (module `app/app.py`)."""

import os

import reflex as rx

config = rx.Config(
    app_name="app",
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="iris"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # With a Redis URL Reflex keeps page states in Redis (its "redis" state manager), so
    # several app instances can serve one browser session; without, states stay in-process.
    redis_url=os.environ.get("REDIS_URL") or None,
)
