"""Parse the MATLAB literals ScanImage writes in its ``SI.x.y = value`` headers.

ScanImage serialises its state with MATLAB's own literal syntax: quoted strings,
``true``/``false``, ``Inf``/``NaN``, matrices (``[1 2;3 4]``, ``;`` breaks rows),
cell arrays (``{'a' 'b'}``) and function handles.  Values we cannot interpret
(``zeros(0,2)``, ``<nonscalar struct>``) are kept as their text.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["nest", "parse_matlab_lines", "parse_matlab_value"]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "Inf": math.inf,
    "inf": math.inf,
    "NaN": math.nan,
    "nan": math.nan,
}
_WORD = re.compile(r"[+-]?(?:true|false|Inf|inf|NaN|nan)\b")
_CLOSE = {"[": "]", "{": "}"}


class _UnparsedError(Exception):
    """Raised inside the parser; the caller falls back to the raw text."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def value(self) -> Any:
        self.skip_space()
        if self.pos >= len(self.text):
            raise _UnparsedError
        char = self.text[self.pos]
        if char == "'":
            return self.string()
        if char in "[{":
            return self.matrix(char)
        word = _WORD.match(self.text, self.pos)
        if word:
            self.pos = word.end()
            token = word.group()
            sign = -1 if token[0] == "-" else 1
            value = _WORDS[token.lstrip("+-")]
            return value if isinstance(value, bool) else sign * value
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            token = number.group()
            is_int = not any(c in token for c in ".eE")
            return int(token) if is_int else float(token)
        raise _UnparsedError

    def string(self) -> str:
        chars = []
        self.pos += 1
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise _UnparsedError
            chars.append(self.text[self.pos : end])
            self.pos = end + 1
            if self.text.startswith("'", self.pos):  # '' is an escaped quote
                chars.append("'")
                self.pos += 1
                continue
            return "".join(chars)

    def matrix(self, opener: str) -> Any:
        closer = _CLOSE[opener]
        self.pos += 1
        rows: list[list[Any]] = [[]]
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise _UnparsedError
            char = self.text[self.pos]
            if char == closer:
                self.pos += 1
                break
            if char == ";":
                rows.append([])
                self.pos += 1
            elif char == ",":
                self.pos += 1
            else:
                rows[-1].append(self.value())
        rows = [row for row in rows if row]
        if opener == "[" and len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]  # MATLAB: [5] is the scalar 5
        if len(rows) == 1:
            return rows[0]
        if all(len(row) == 1 for row in rows):
            return [row[0] for row in rows]  # column vector
        return rows


def parse_matlab_value(text: str) -> Any:
    """Convert one MATLAB literal to Python; unknown syntax stays a string.

    Examples
    --------
    >>> parse_matlab_value("[1;2]")
    [1, 2]
    >>> parse_matlab_value("[-45 -45;45 -45]")
    [[-45, -45], [45, -45]]
    >>> parse_matlab_value("{'Channel 1' 'it''s'}")
    ['Channel 1', "it's"]
    >>> parse_matlab_value("Inf"), parse_matlab_value("true"), parse_matlab_value("[]")
    (inf, True, [])
    >>> parse_matlab_value("zeros(0,2)")
    'zeros(0,2)'
    """
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):  # most header values: one plain number
        return float(stripped) if any(c in stripped for c in ".eE") else int(stripped)
    if stripped.startswith("@"):
        return stripped
    parser = _Parser(stripped)
    try:
        value = parser.value()
        parser.skip_space()
    except (_UnparsedError, RecursionError):
        return stripped
    return value if parser.pos == len(stripped) else stripped


def parse_matlab_lines(text: str) -> dict[str, Any]:
    r"""Turn ``SI.a.b = value`` lines into nested dicts: ``{'SI': {'a': {'b': v}}}``.

    Lines without `` = `` are ignored; a key that is both a value and a parent
    (rare, from flattened struct arrays) keeps its value under ``''``.

    Examples
    --------
    >>> parse_matlab_lines("SI.hRoiManager.linesPerFrame = 512\nSI.VERSION_MAJOR = '2016b'")
    {'SI': {'hRoiManager': {'linesPerFrame': 512}, 'VERSION_MAJOR': '2016b'}}
    """
    flat: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        key = key.strip()
        if sep and key and " " not in key:
            flat[key] = parse_matlab_value(raw)
    return nest(flat)


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{'a.b': 1, 'a.c': 2}`` -> ``{'a': {'b': 1, 'c': 2}}`` (later keys win).

    Examples
    --------
    >>> nest({"SI.hChannels.channelSave": [1, 2], "SI.VERSION_MAJOR": "4.2"})
    {'SI': {'hChannels': {'channelSave': [1, 2]}, 'VERSION_MAJOR': '4.2'}}
    """
    root: dict[str, Any] = {}
    for key, value in flat.items():
        node = root
        *parents, leaf = key.split(".")
        for name in parents:
            child = node.get(name)
            if not isinstance(child, dict):
                child = {} if child is None else {"": child}
                node[name] = child
            node = child
        if isinstance(node.get(leaf), dict):
            node[leaf][""] = value
        else:
            node[leaf] = value
    return root
