"""A small brace-aware JavaScript/TypeScript scanner (no Node needed).

`mask()` keeps the text's length and newlines but blanks comments and the contents of string,
template and regex literals, so searching and bracket matching on the result only ever sees code.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

_SPECIAL = re.compile(r"[/'\"`{}]")
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = frozenset(
    {
        "return",
        "typeof",
        "case",
        "do",
        "else",
        "in",
        "of",
        "new",
        "delete",
        "void",
        "throw",
        "yield",
        "await",
    }
)
_WORD = re.compile(r"[A-Za-z0-9_$]+$")
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")


def mask(src: str) -> str:
    chars = list(src)
    n = len(src)
    depth = 0
    template_depths: list[int] = []

    def fill(a: int, b: int, ch: str) -> None:
        if b > a:
            chars[a:b] = [c if c == "\n" else ch for c in src[a:b]]

    def template(k: int) -> int:
        nonlocal depth
        start = k
        while k < n:
            ch = src[k]
            if ch == "\\":
                k += 2
                continue
            if ch == "`":
                fill(start, k, "x")
                return k + 1
            if ch == "$" and src.startswith("{", k + 1):
                fill(start, k, "x")
                depth += 1
                template_depths.append(depth)
                return k + 2
            k += 1
        fill(start, n, "x")
        return n

    def regex_allowed(j: int) -> bool:
        k = j - 1
        while k >= 0 and chars[k] in " \t\r\n":
            k -= 1
        if k < 0:
            return True
        if chars[k] in _REGEX_AFTER:
            return True
        word = _WORD.search("".join(chars[max(0, k - 12) : k + 1]))
        return bool(word and word.group(0) in _REGEX_KEYWORDS)

    def regex_end(k: int) -> int | None:
        in_class = False
        while k < n:
            ch = src[k]
            if ch == "\\":
                k += 2
                continue
            if ch == "\n":
                return None
            if ch == "[":
                in_class = True
            elif ch == "]":
                in_class = False
            elif ch == "/" and not in_class:
                return k
            k += 1
        return None

    i = 0
    if src.startswith("#!"):
        end = src.find("\n")
        i = n if end < 0 else end
        fill(0, i, " ")
    while i < n:
        m = _SPECIAL.search(src, i)
        if m is None:
            break
        j = m.start()
        c = src[j]
        if c == "{":
            depth += 1
            i = j + 1
        elif c == "}":
            if template_depths and depth == template_depths[-1]:
                template_depths.pop()
                depth -= 1
                i = template(j + 1)
            else:
                depth -= 1
                i = j + 1
        elif c in "\"'":
            k = j + 1
            while k < n and src[k] != c and src[k] != "\n":
                k += 2 if src[k] == "\\" else 1
            fill(j + 1, min(k, n), "x")
            i = k + 1
        elif c == "`":
            i = template(j + 1)
        else:  # "/"
            nxt = src[j + 1 : j + 2]
            if nxt == "/":
                k = src.find("\n", j)
                k = n if k < 0 else k
                fill(j, k, " ")
                i = k
            elif nxt == "*":
                k = src.find("*/", j + 2)
                k = n if k < 0 else k + 2
                fill(j, k, " ")
                i = k
            elif regex_allowed(j) and (k2 := regex_end(j + 1)) is not None:
                fill(j + 1, k2, "x")
                i = k2 + 1
            else:
                i = j + 1
    return "".join(chars)


_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_BRACKETS = re.compile(r"[()\[\]{}]")
_PARAM = re.compile(r"\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)")


@dataclass(frozen=True)
class Func:
    params: list[str]
    body_start: int  # offset of the body's first character (after "{", or the expression)
    body_end: int  # offset of the closing "}" (or the end of the expression)


class JsFile:
    def __init__(self, src: str) -> None:
        self.src = src
        self.code = mask(src)

    @cached_property
    def _newlines(self) -> list[int]:
        return [m.start() for m in re.finditer("\n", self.src)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._newlines, offset - 1) + 1

    @cached_property
    def pairs(self) -> dict[int, int]:
        pairs: dict[int, int] = {}
        stack: list[tuple[str, int]] = []
        for m in _BRACKETS.finditer(self.code):
            ch = m.group(0)
            if ch in _OPEN:
                stack.append((ch, m.start()))
            elif stack and stack[-1][0] == _CLOSE[ch]:
                pairs[stack.pop()[1]] = m.start()
        return pairs

    def close(self, open_offset: int) -> int | None:
        return self.pairs.get(open_offset)

    def find(
        self, pattern: re.Pattern[str], start: int = 0, end: int | None = None
    ) -> Iterator[re.Match[str]]:
        return pattern.finditer(self.code, start, len(self.code) if end is None else end)

    def skip_ws(self, offset: int) -> int:
        while offset < len(self.code) and self.code[offset] in " \t\r\n":
            offset += 1
        return offset

    def call_args(self, open_paren: int) -> tuple[int, int] | None:
        end = self.close(open_paren)
        return (open_paren + 1, end) if end is not None else None

    def split_top(self, start: int, end: int) -> list[tuple[int, int]]:
        """Ranges of the comma-separated items between start and end (depth 0 only)."""
        items, depth, item_start = [], 0, start
        for k in range(start, end):
            ch = self.code[k]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append((item_start, k))
                item_start = k + 1
        if self.code[item_start:end].strip():
            items.append((item_start, end))
        return items

    def params(self, open_paren: int) -> list[str]:
        end = self.close(open_paren)
        if end is None:
            return []
        names = []
        for a, b in self.split_top(open_paren + 1, end):
            m = _PARAM.match(self.code, a, b)
            names.append(m.group(1) if m else "")
        return names

    def function_at(self, offset: int) -> Func | None:
        """The function expression starting at `offset` (arrow, `function`, async or not)."""
        code = self.code
        k = self.skip_ws(offset)
        if code.startswith("async", k) and not re.match(r"[\w$]", code[k + 5 : k + 6]):
            k = self.skip_ws(k + 5)
        if code.startswith("function", k):
            paren = code.find("(", k)
            if paren < 0:
                return None
            return self._body_after(paren, arrow=False)
        if k < len(code) and code[k] == "(":
            return self._body_after(k, arrow=True)
        m = re.compile(r"([A-Za-z_$][\w$]*)\s*=>").match(code, k)
        if m:
            return self._finish([m.group(1)], m.end())
        return None

    def _body_after(self, paren: int, *, arrow: bool) -> Func | None:
        close = self.close(paren)
        if close is None:
            return None
        names = self.params(paren)
        k = close + 1
        if arrow:
            m = re.compile(r"\s*(?::[^;{}]*?)?=>").match(self.code, k)
            if m is None:
                m = re.compile(r"\s*:[^;]*?=>").match(self.code, k)
            if m is None:
                return None
            return self._finish(names, m.end())
        brace = self.code.find("{", k)
        if brace < 0 or (end := self.close(brace)) is None:
            return None
        return Func(names, brace + 1, end)

    def _finish(self, names: list[str], k: int) -> Func | None:
        k = self.skip_ws(k)
        if k < len(self.code) and self.code[k] == "{":
            end = self.close(k)
            return Func(names, k + 1, end) if end is not None else None
        # Expression body: up to the end of the enclosing call or statement.
        depth = 0
        for j in range(k, len(self.code)):
            ch = self.code[j]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    return Func(names, k, j)
                depth -= 1
            elif ch in ",;" and depth == 0:
                return Func(names, k, j)
        return Func(names, k, len(self.code))

    def named_function(self, name: str) -> Func | None:
        """`function name(...) {}` or `const name = (async) (...) => ...` / `= function`."""
        esc = re.escape(name)
        m = re.compile(rf"(?:async\s+)?function\s*\*?\s*{esc}\s*\(").search(self.code)
        if m:
            return self._body_after(m.end() - 1, arrow=False)
        m = re.compile(rf"\b(?:const|let|var)\s+{esc}\s*(?::[^=]+)?=\s*").search(self.code)
        if m:
            return self.function_at(m.end())
        return None

    def enclosing_top_block(self, offset: int) -> tuple[int, int]:
        """The outermost {...} holding `offset` (the whole file when none)."""
        best = (0, len(self.code))
        for start, end in self.pairs.items():
            if (
                self.code[start] == "{"
                and start < offset < end
                and (best == (0, len(self.code)) or start < best[0])
            ):
                best = (start, end)
        return best

    def object_props(self, start: int, end: int) -> dict[str, tuple[int, int]]:
        """Top-level `key: value` ranges of an object literal whose braces are at start/end."""
        props: dict[str, tuple[int, int]] = {}
        for a, b in self.split_top(start + 1, end):
            seg = self.code[a:b]
            m = re.match(r"\s*(?:\.\.\.)?(['\"]?)([\w$-]+|x+)\1\s*(:)?", seg)
            if not m:
                continue
            key = m.group(2)
            if m.group(1):  # quoted key: read it from the source
                key = self.src[a + m.start(2) : a + m.end(2)]
            if m.group(3):
                props[key] = (a + m.end(), b)
            else:
                props[key] = (a + m.start(2), a + m.end(2))
        return props

    def text(self, start: int, end: int) -> str:
        return self.src[start:end]
