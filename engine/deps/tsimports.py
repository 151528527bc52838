"""What a TypeScript script (bun or Deno) needs from npm, read from its text.

Found: `import ... from "pkg"`, `import "pkg"`, `export ... from "pkg"`, `import("pkg")`
and `require("pkg")`, outside comments. A specifier names an npm package when it is bare
(`lodash`, `@scope/name/sub`) or says so (`npm:lodash@^4`); a version may follow the
name, as Windmill allows (`windmill-client@1.147.3`, `npm:windmill-client@1`).
Relative and absolute paths, URLs, `node:`, `bun:` and `jsr:` specifiers and Node's
built-in modules need nothing from npm.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_QUOTED = r"""(['"])([^'"\n]+)\1"""
_SPECIFIERS = (
    re.compile(r"(?:^|[;\s}])(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]+?\s+from\s*)?" + _QUOTED, re.MULTILINE),
    re.compile(r"\b(?:import|require)\s*\(\s*" + _QUOTED + r"\s*\)"),
)
_NAME = re.compile(r"^((?:@[A-Za-z0-9._~-]+/)?[A-Za-z0-9._~-]+)(?:@([^/]+))?(/.*)?$")
_NOT_NPM = ("node:", "bun:", "jsr:", "http:", "https:", "file:", "data:", "/", ".")
NODE_BUILTINS = frozenset("""
assert async_hooks buffer child_process cluster console constants crypto dgram diagnostics_channel dns domain
events fs http http2 https inspector module net os path perf_hooks process punycode querystring readline repl
stream string_decoder sys timers tls trace_events tty url util v8 vm wasi worker_threads zlib test sqlite bun
""".split())


@dataclass(frozen=True)
class NpmImport:
    """One npm package a script imports."""

    name: str
    """The package name (`lodash`, `@scope/name`)."""
    version: str | None
    """The version or range written after it (`^4`, `1.2.3`), or None."""
    start: int
    """Where the specifier's text starts in the script (after the quote)."""
    length: int
    """Its length."""
    version_at: int | None
    """Where `@version` starts within the specifier, or None."""


@functools.lru_cache(maxsize=512)
def npm_imports(content: str) -> tuple[NpmImport, ...]:
    """Every npm package specifier of the script, in order of appearance (read once per
    text: runs read the same scripts again and again)."""
    # Here, not at the top: engine.runners (bun.py) imports this module.
    from engine.runners.signature_ts import strip_comments

    text = strip_comments(content)
    found: dict[int, NpmImport] = {}
    for pattern in _SPECIFIERS:
        for match in pattern.finditer(text):
            spec, start = match[2], match.start(2)
            parsed = _npm_package(spec, start)
            if parsed is not None:
                found[start] = parsed
    return tuple(found[start] for start in sorted(found))


def _npm_package(spec: str, start: int) -> NpmImport | None:
    offset = 0
    if spec.startswith("npm:"):
        offset = 4 + (1 if spec[4:5] == "/" else 0)
    elif spec.startswith(_NOT_NPM) or ":" in spec.split("/")[0]:
        return None
    match = _NAME.match(spec[offset:])
    if match is None:
        return None
    name, version = match[1], match[2]
    if offset == 0 and name in NODE_BUILTINS:
        return None
    version_at = offset + len(name) if version is not None else None
    return NpmImport(name, version, start, len(spec), version_at)


def npm_dependencies(content: str) -> dict[str, str]:
    """package.json `dependencies` for the script: name → the version written, or "latest"."""
    wanted: dict[str, str] = {}
    for found in npm_imports(content):
        if found.version is not None or found.name not in wanted:
            wanted[found.name] = found.version or wanted.get(found.name) or "latest"
    return wanted


def without_versions(content: str) -> str:
    """The script with the versions of its bare versioned specifiers blanked for bun
    (`"pkg@1.2"` → `"pkg"` and spaces after the literal, so every position stays), which
    resolves them from the installed packages; `npm:` ones are Deno's and left as they are."""
    edits = [found for found in npm_imports(content) if found.version_at is not None
             and not content.startswith("npm:", found.start)]
    if not edits:
        return content
    out, cursor = [], 0
    for found in edits:
        end = found.start + found.length
        cut = found.start + found.version_at
        out.append(content[cursor:cut])
        out.append(content[end])  # the closing quote
        out.append(" " * (end - cut))
        cursor = end + 1
    out.append(content[cursor:])
    return "".join(out)
