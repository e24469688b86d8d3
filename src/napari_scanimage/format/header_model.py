"""What a ScanImage header is, whichever generation wrote it and however it was found.

:mod:`.header` reads 2016+ static blocks into a :class:`ScanImageHeader`,
:mod:`.legacy_header` older and re-saved files; both build on this module and
it on neither, so the two readers never import each other.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from napari_scanimage.errors import ScanImageError, ScanImageFileError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["SCANIMAGE_MAGIC", "ScanImageHeader", "decode_json", "lookup"]

SCANIMAGE_MAGIC = 0x07030301
"""First word of the 16-byte block ScanImage 2016+ writes at byte 16 of a BigTIFF."""
_JSON_WORDS = {"_Inf_": math.inf, "-_Inf_": -math.inf, "_NaN_": math.nan}
_MISSING = object()


def decode_json(value: Any) -> Any:
    """Undo MATLAB's JSON encodings: ``"_Inf_"`` strings and ``_ArrayType_`` objects.

    Examples
    --------
    >>> decode_json({"a": "_Inf_", "b": {"_ArrayType_": "double", "_ArraySize_": [1, 0],
    ...                                  "_ArrayData_": None}})
    {'a': inf, 'b': []}
    """
    if isinstance(value, dict):
        if "_ArrayType_" in value:
            data = value.get("_ArrayData_")
            return [] if data is None else decode_json(data)
        return {key: decode_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_json(item) for item in value]
    if isinstance(value, str):
        return _JSON_WORDS.get(value, value)
    return value


def lookup(tree: dict[str, Any], dotted: str, default: Any = _MISSING) -> Any:
    """Get a nested value by its dotted name, e.g. ``'SI.hRoiManager.linePeriod'``.

    Raises ``KeyError`` naming the whole dotted key when it is absent and no
    default is given.
    """
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is _MISSING:
                raise KeyError(dotted)
            return default
        node = node[part]
    return node


@dataclass(frozen=True, eq=False)
class ScanImageHeader:
    """The parsed static header of one ScanImage file."""

    path: str
    """File the header was read from."""
    tiff_format_version: int
    """``SI.TIFF_FORMAT_VERSION``: 3 (2016-2018) or 4 (2019 and later); 0 where the
    header has none (ScanImage 3.x to 2015)."""
    frame_data: dict[str, Any]
    """FrameData as nested dicts rooted at ``'SI'``, whichever style it was written in."""
    roi_groups: dict[str, Any]
    """RoiGroups JSON (``{'RoiGroups': {'imagingRoiGroup': ...}}``), MATLAB encodings undone."""
    style: Literal["matlab", "json"]
    """How FrameData was written."""
    raw: bytes
    """The whole static block (files without one: the header as found); files of one
    acquisition have identical ones."""
    generation: str = "2016+"
    """ScanImage generation the header was written by: '3.x', '4.x', '5.0/5.1',
    '5.2/2015' or '2016+' (decided from the keys found, not the version number)."""
    container: str = "BigTIFF with ScanImage's static header block"
    """The TIFF flavour and where the header was found in it."""

    def get(self, dotted: str, default: Any = _MISSING) -> Any:
        """Look up a FrameData value by its ScanImage name, e.g. ``'SI.hRoiManager.linePeriod'``.

        Without a default, a missing key raises ``ScanImageFileError`` naming the
        file and the key.
        """
        try:
            return lookup(self.frame_data, dotted, default)
        except KeyError:
            msg = f"the ScanImage header lacks {dotted}"
            raise ScanImageFileError(self.path, msg) from None

    @contextlib.contextmanager
    def interpreting(self, what: str) -> Iterator[None]:
        """Turn a surprise in a damaged header's values into an error naming the file.

        Code that interprets FrameData or RoiGroups runs inside this, so a
        wrongly typed or missing value never escapes as a bare numpy/Python error.
        """
        try:
            yield
        except ScanImageError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
            msg = f"cannot interpret the {what} ({type(exc).__name__}: {exc})"
            raise ScanImageFileError(self.path, msg) from exc

    def flag(self, dotted: str) -> bool:
        """A FrameData switch: true, 1 or [1] is on; absent, false, 0 or text are off."""
        value = lookup(self.frame_data, dotted, None)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        return isinstance(value, bool | int | float) and bool(value)

    def number(self, dotted: str, default: float = math.nan) -> float:
        """A numeric FrameData value, or ``default`` when absent or not a number."""
        value = lookup(self.frame_data, dotted, None)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return default
        return float(value)

    def has(self, dotted: str) -> bool:
        """Whether FrameData holds ``dotted``."""
        return lookup(self.frame_data, dotted, None) is not None
