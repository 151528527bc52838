"""Expressions as Windmill's older editor wrote them.

Its exports may open an expression with `import { previous_result, flow_input, ... } from
'windmill@1-1'`, a line that only named what the expression may use. It is blanked out
(same length, newlines kept), so positions in messages still point into the text as written.
"""

from __future__ import annotations

import re

_LEGACY_IMPORT = re.compile(r"""\A\s*import\s*\{[^}]*\}\s*from\s*(['"])windmill@[\w.-]*\1[ \t]*;?""")


def without_legacy_import(expr: str) -> str:
    """`expr` with a leading `import {...} from 'windmill@...'` turned into blanks."""
    found = _LEGACY_IMPORT.match(expr)
    if found is None:
        return expr
    blank = re.sub(r"[^\n]", " ", found.group())
    return blank + expr[found.end():]
