"""Reflex configuration of the Millrace web app (module `app/app.py`)."""

import reflex as rx

config = rx.Config(
    app_name="app",
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="iris"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
