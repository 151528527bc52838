"""TypeScript/JavaScript under Deno: "deno" scripts, so `Deno.*` works (javascript.py runs them).

Deno comes from PyPI (the `deno` package ships its executable into the virtualenv). It
runs with every permission: the sandbox around the job is the boundary, as for every
language. npm packages are the step's lock's (engine/deps/); URL imports are fetched into
the job's own /tmp.
"""

from __future__ import annotations

import os
import shutil

from engine.runners.javascript import JsRuntime

INSTALL_HINT = (
    "deno is not installed: run `.venv/bin/pip install -r requirements.txt` in the project root "
    "(`make run` does it; the PyPI package `deno` ships it), or point MILLRACE_DENO at a deno executable"
)


def find_deno() -> str | None:
    """The deno to use: the `deno` package's, then MILLRACE_DENO, then PATH."""
    try:
        from deno import find_deno_bin

        return find_deno_bin()
    except (ImportError, OSError, RuntimeError):
        pass
    configured = os.environ.get("MILLRACE_DENO")
    if configured and os.access(configured, os.X_OK):
        return configured
    return shutil.which("deno")


DENO = JsRuntime(
    name="deno",
    find=lambda: find_deno(),
    install_hint=INSTALL_HINT,
    flags=("run", "--allow-all", "--no-prompt", "--quiet", "--no-config", "--node-modules-dir=manual"),
    env={"DENO_DIR": "/tmp/deno", "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"},
)
"""Deno runs the wrapper with every permission, without prompts, update checks or colour; npm
packages (`npm:` specifiers too) come from the step's lock, linked beside it as node_modules."""
