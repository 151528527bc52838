"""The package index uv uses: the one pip is configured with on this machine.

`pip config list` shows pip's settings from every file and PIP_* variable, in the order
pip applies them (later ones win); those about the index become uv's options, so that
a step's packages come from where `pip install` would take them.
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
from dataclasses import dataclass, field

PIP_CONFIG_TIMEOUT = 60.0


@dataclass(frozen=True)
class IndexConfig:
    """uv's command-line options and environment for pip's index settings."""

    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def local_paths(self) -> list[str]:
        """Folders and files on this machine the options name (a file:// index, find-links,
        a constraints file, a certificate): the tool must see them."""
        found = [value for value in self.env.values() if value.startswith("/")]
        for option, value in zip(self.args, self.args[1:]):
            path = value.removeprefix("file://").rstrip("/")
            if option in ("--find-links", "--constraint") and path.startswith("/"):
                found.append(path)
            elif option in ("--index-url", "--extra-index-url") and path.startswith("/"):
                # A local index's pages (<root>/simple) point at files beside them.
                found.append(os.path.dirname(path) or path)
        return found


def parse_pip_config(listing: str) -> dict[str, str]:
    """`pip config list` output as {setting: value}, the last one of each name winning."""
    settings: dict[str, str] = {}
    for line in listing.splitlines():
        key, equals, value = line.partition("=")
        if not equals or "." not in key:
            continue
        name = key.rsplit(".", 1)[1].strip()
        try:
            settings[name] = str(ast.literal_eval(value.strip()))
        except (ValueError, SyntaxError):
            settings[name] = value.strip().strip("'\"")
    return settings


def index_config(settings: dict[str, str]) -> IndexConfig:
    """uv's options for pip's settings: index URLs, find-links, trusted hosts, certificates."""
    args: list[str] = ["--index-strategy", "unsafe-best-match"]  # pip's rule: the best version of any index
    env: dict[str, str] = {}
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    if settings.get("index-url"):
        args += ["--index-url", settings["index-url"]]
    for url in settings.get("extra-index-url", "").split():
        args += ["--extra-index-url", url]
    for place in settings.get("find-links", "").split():
        args += ["--find-links", place]
    for host in settings.get("trusted-host", "").split():
        args += ["--allow-insecure-host", host]
    for constraint in settings.get("constraint", "").split():
        args += ["--constraint", constraint]
    if settings.get("cert"):
        env["SSL_CERT_FILE"] = settings["cert"]
    if settings.get("timeout") or settings.get("default-timeout"):
        env["UV_HTTP_TIMEOUT"] = settings.get("timeout") or settings["default-timeout"]
    return IndexConfig(tuple(args), env)


@functools.lru_cache(maxsize=1)
def machine_index() -> IndexConfig:
    """uv's options for this machine's pip configuration (read once per process)."""
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                              timeout=PIP_CONFIG_TIMEOUT)
        listing = done.stdout if done.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    return index_config(parse_pip_config(listing))
