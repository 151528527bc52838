"""TypeScript/JavaScript under bun: "bun" and "nativets" scripts (javascript.py runs them).

bun comes from npm into the project's `.tools` folder (`make run` installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine.deps.tsimports import without_versions
from engine.runners.javascript import JsRuntime

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUN_VERSION = "1.4.4"
INSTALL_HINT = (
    f"bun is not installed: run `npm install --prefix .tools bun@{BUN_VERSION}` in the "
    "project root (`make run` does it), or point MILLRACE_BUN at a bun executable"
)


def find_bun() -> str | None:
    """The bun to use: the project's `.tools` install, then MILLRACE_BUN, then PATH."""
    local = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if os.access(local, os.X_OK):
        return str(local)
    configured = os.environ.get("MILLRACE_BUN")
    if configured and os.access(configured, os.X_OK):
        return configured
    return shutil.which("bun")


BUN = JsRuntime(name="bun", find=lambda: find_bun(), install_hint=INSTALL_HINT, flags=("--no-install",),
                source=without_versions)
"""bun runs the wrapper as it is, never installing a package itself: a step's packages are
those of its lock, linked beside it (engine/deps/); versions written in its imports
(`windmill-client@1.147.3`, as Windmill allows) are the lock's business, not bun's."""
