"""python-hcl2 parses, cached by content (in memory and in the review cache, `review.cache`).

Parsing is the review's main cost on Terraform (about 20 ms a file, and this catalog's shared
modules are read once per pattern). The review hands `loads` to
`catalog.resources.from_hcl(parse=...)`.

`hcl2.loads` builds its parser with `propagate_positions=True`, which only `hcl2.dumps`
(reconstruction) reads: `loads` output never holds positions. The review parses with python-hcl2's
own grammar, post-lexer, transformer and serializer, without positions: the same output (and the
same errors, whose positions come from the tokens), about 40% less parse time.
"""

from __future__ import annotations

import re
from functools import cache as once
from pathlib import Path
from typing import Any

from . import cache

_MEMORY: dict[str, Any] = {}
_MAX_MEMORY = 4096


@once
def parser() -> Any:
    """python-hcl2's grammar without position propagation. Its compiled form (3 s to build) is
    cached next to python-hcl2's own, which lark checks against the grammar and options."""
    import hcl2.parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    folder = Path(hcl2.parser.__file__).parent
    return Lark.open(
        "hcl2.lark",
        parser="lalr",
        cache=str(folder / ".lark_cache_catalog_review.bin"),
        rel_to=hcl2.parser.__file__,
        propagate_positions=False,
        postlex=PostLexer(),
    )


def parse(text: str) -> Any:
    """`hcl2.loads(text)`, uncached: python-hcl2's pipeline on the parser above."""
    from hcl2.api import serialize, transform

    # hcl2.loads appends the newline too: its grammar needs one at the end.
    return serialize(transform(parser().parse(text + "\n")))


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
