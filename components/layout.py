"""The page template: a sidebar of sections beside the page's own content.

The app hands in its sections and what closes the sidebar (who is logged in; given
`margin_top="auto"` to sit at the bottom): this module knows no route or state of the app."""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import reflex as rx

Section = tuple[str, str, str]
"""A sidebar entry: label, href, icon name."""
PageFn = Callable[[], rx.Component]


def sidebar(sections: Sequence[Section], active: str, footer: rx.Component) -> rx.Component:
    """The navigation column; `active` is the label of the current section, `footer`
    sits at its bottom."""
    links = [
        rx.link(
            rx.hstack(rx.icon(icon, size=16), rx.text(label), spacing="2", align="center"),
            href=href,
            underline="none",
            weight="bold" if label == active else "regular",
            color_scheme="iris" if label == active else "gray",
            high_contrast=label != active,
            padding_y="0.4rem",
            custom_attrs={"data-nav": label.lower().replace(" ", "-")},
        )
        for label, href, icon in sections
    ]
    return rx.vstack(
        rx.heading("Millrace", size="5", margin_bottom="1rem"),
        *links,
        footer,
        width="12rem",
        height="100vh",
        position="sticky",
        top="0",
        padding="1.25rem",
        border_right="1px solid var(--gray-a5)",
        spacing="1",
        flex_shrink="0",
    )


def page_template(sections: Sequence[Section], footer: PageFn) -> Callable[[str, str], Callable[[PageFn], PageFn]]:
    """A `template(title, section)` decorator for pages with these sidebar sections and
    this footer."""

    def template(title: str, section: str) -> Callable[[PageFn], PageFn]:
        """Wrap a page's content in the shared layout: sidebar, then a titled main column."""

        def decorate(content: PageFn) -> PageFn:
            @functools.wraps(content)
            def page() -> rx.Component:
                return rx.hstack(
                    sidebar(sections, section, footer()),
                    rx.box(
                        rx.heading(title, size="6", margin_bottom="1rem"),
                        content(),
                        padding="1.5rem",
                        width="100%",
                        min_width="0",
                    ),
                    spacing="0",
                    align="start",
                    width="100%",
                )

            return page

        return decorate

    return template
