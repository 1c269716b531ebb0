"""python-hcl2 parses, cached by content (in memory and in the review cache, `review.cache`).

Parsing is the review's main cost on Terraform (about 20 ms a file, and this catalog's shared
modules are read once per pattern). The review hands `loads` to
`catalog.resources.from_hcl(parse=...)`.
"""

from __future__ import annotations

import re
from typing import Any

from . import cache

_MEMORY: dict[str, Any] = {}
_MAX_MEMORY = 4096


def loads(text: str) -> Any:
    """`hcl2.loads(text)`, cached; raises what hcl2 raises."""
    digest = cache.key("python-hcl2", cache.version("python-hcl2"), text)
    if digest in _MEMORY:
        return _MEMORY[digest]
    data = cache.get("hcl", digest)
    if data is None:
        data = _tolerant(text)
        cache.put("hcl", digest, data)
    if len(_MEMORY) >= _MAX_MEMORY:
        _MEMORY.clear()
    _MEMORY[digest] = data
    return data


def _tolerant(text: str) -> Any:
    """Terraform accepts heredoc terminators followed by blanks (`POLICY  `); python-hcl2 does not."""
    import hcl2

    parse = hcl2.loads
    try:
        return parse(text)
    except Exception as first:  # lark raises several error types
        stripped = re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)
        if stripped == text:
            raise
        try:
            return parse(stripped)
        except Exception:
            raise first from None
