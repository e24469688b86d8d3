"""Fields: where each imaged rectangle sits in a page and in physical space.

Geometry only; no header parsing beyond the RoiGroups dicts handed in.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

from napari_scanimage.errors import FieldSizeMismatchError, ScanImageError, ScanImageFileError

__all__ = ["Field", "RoiPlacement", "Trim", "common_size", "rois_at_depth"]


@dataclass(frozen=True, kw_only=True)
class Trim:
    """Pixels cut from every ROI before fields are formed (left, right, top, bottom)."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0

    def __post_init__(self) -> None:
        """Reject negative trims."""
        if min(self.left, self.right, self.top, self.bottom) < 0:
            raise ScanImageError(f"trims must be >= 0, got {self}")


@dataclass(frozen=True, kw_only=True)
class RoiPlacement:
    """One ROI's scanfield at one depth, placed in the page and in µm."""

    roi_id: int
    """Index of the ROI in the imaging RoiGroup (0-based)."""
    name: str
    depth_index: int
    y0: int
    """First page row of the ROI."""
    height: int
    width: int
    top_left_um: tuple[float, float]
    """(y, x) of the ROI's outer corner in µm."""
    pixel_size_um: tuple[float, float]
    """(dy, dx) µm per pixel."""

    def right_edge_um(self) -> float:
        """X of the ROI's right border in µm."""
        return self.top_left_um[1] + self.width * self.pixel_size_um[1]


@dataclass(frozen=True, kw_only=True)
class Field:
    """A rectangle of output pixels assembled from one or more ROIs of one depth.

    For every part ``i`` the reader copies
    ``page[yslices[i], xslices[i]]`` into ``field[output_yslices[i], output_xslices[i]]``;
    a plain ROI has one part, a joined field one part per ROI, side by side.
    """

    index: int
    depth_index: int
    depth: float
    """z of the field (µm)."""
    roi_ids: tuple[int, ...]
    roi_names: tuple[str, ...]
    yslices: tuple[slice, ...]
    xslices: tuple[slice, ...]
    output_yslices: tuple[slice, ...]
    output_xslices: tuple[slice, ...]
    height: int
    width: int
    top_left_um: tuple[float, float]
    """(y, x) in µm of the outer corner of output pixel (0, 0)."""
    pixel_size_um: tuple[float, float]
    """(dy, dx) µm per pixel; NaN where the file does not say (``pixel_size_known``)."""

    @property
    def pixel_size_known(self) -> bool:
        """Whether the file gives the pixel size in µm (not so in ScanImage 3.x-5.1 files)."""
        return all(math.isfinite(v) for v in (*self.pixel_size_um, *self.top_left_um))

    @property
    def size_um(self) -> tuple[float, float]:
        """(height, width) in µm."""
        return (self.height * self.pixel_size_um[0], self.width * self.pixel_size_um[1])

    @property
    def center_um(self) -> tuple[float, float]:
        """(y, x) of the field's centre in µm."""
        h, w = self.size_um
        return (self.top_left_um[0] + h / 2, self.top_left_um[1] + w / 2)

    @property
    def offsets(self) -> tuple[tuple[int, int], ...]:
        """(y, x) page position of each part's first pixel."""
        return tuple(
            (ys.start, xs.start) for ys, xs in zip(self.yslices, self.xslices, strict=True)
        )

    @classmethod
    def from_parts(cls, index: int, depth: float, parts: list[RoiPlacement], trim: Trim) -> Field:
        """Trim every part, then lay the parts side by side, left to right."""
        height = parts[0].height - trim.top - trim.bottom
        widths = [p.width - trim.left - trim.right for p in parts]
        if height <= 0 or min(widths) <= 0:
            msg = (
                f"trims {trim} leave nothing of ROI {parts[0].name!r} "
                f"({parts[0].height}x{parts[0].width} pixels)"
            )
            raise ScanImageError(msg)
        starts = [sum(widths[:i]) for i in range(len(parts))]
        first = parts[0]
        dy, dx = first.pixel_size_um
        return cls(
            index=index,
            depth_index=first.depth_index,
            depth=depth,
            roi_ids=tuple(p.roi_id for p in parts),
            roi_names=tuple(p.name for p in parts),
            yslices=tuple(slice(p.y0 + trim.top, p.y0 + trim.top + height) for p in parts),
            xslices=tuple(slice(trim.left, trim.left + w) for w in widths),
            output_yslices=tuple(slice(0, height) for _ in parts),
            output_xslices=tuple(slice(s, s + w) for s, w in zip(starts, widths, strict=True)),
            height=height,
            width=sum(widths),
            top_left_um=(
                first.top_left_um[0] + trim.top * dy,
                first.top_left_um[1] + trim.left * dx,
            ),
            pixel_size_um=first.pixel_size_um,
        )

    def with_index(self, index: int) -> Field:
        """The same field under another number."""
        return replace(self, index=index)


def common_size(fields: Sequence[Field]) -> tuple[int, int]:
    """The (height, width) all ``fields`` share; fields of different sizes can't stack."""
    sizes = sorted({(f.height, f.width) for f in fields})
    if len(sizes) > 1:
        listing = ", ".join(f"field {f.index}: {f.height}x{f.width}" for f in fields)
        msg = (
            f"fields of different sizes cannot be stacked ({listing}); "
            "index one field at a time, e.g. scan[0]"
        )
        raise FieldSizeMismatchError(msg)
    return sizes[0]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _scanfield_at(roi: dict[str, Any], z: float) -> dict[str, Any] | None:
    """The scanfield an ROI images at depth ``z``, per ScanImage's rules.

    Discrete-plane ROIs exist only at their listed zs; others with one scanfield
    exist at every depth, with several they are interpolated between their zs
    and absent outside that range.
    """
    fields = [sf for sf in _as_list(roi.get("scanfields")) if isinstance(sf, dict)]
    zs = [float(z) for z in _as_list(roi.get("zs"))]
    if not fields:
        return None
    if len(zs) != len(fields):
        zs = zs[: len(fields)] + [0.0] * (len(fields) - len(zs))
    if roi.get("discretePlaneMode"):
        for sf, sz in zip(fields, zs, strict=True):
            if math.isclose(sz, z, abs_tol=1e-6):
                return sf
        return None
    if len(fields) == 1:
        return fields[0]
    pairs = sorted(zip(zs, range(len(fields)), strict=True))
    if not pairs[0][0] - 1e-6 <= z <= pairs[-1][0] + 1e-6:
        return None
    for (z0, i0), (z1, i1) in itertools.pairwise(pairs):
        if z0 - 1e-6 <= z <= z1 + 1e-6:
            return _interpolate(fields[i0], fields[i1], 0.0 if z1 == z0 else (z - z0) / (z1 - z0))
    return fields[pairs[0][1]]


def _interpolate(a: dict[str, Any], b: dict[str, Any], t: float) -> dict[str, Any]:
    """Linear blend of two scanfields' centre and size (pixels from the nearer)."""
    out = dict(a if t < 0.5 else b)
    for key in ("centerXY", "sizeXY"):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, list) and isinstance(vb, list):
            out[key] = [x + (y - x) * t for x, y in zip(va, vb, strict=False)]
    return out


def rois_at_depth(
    rois: list[dict[str, Any]],
    z: float,
    depth_index: int,
    um_per_degree: float,
    path: str | None = None,
) -> list[RoiPlacement]:
    """The enabled ROIs imaged at ``z``, in page order, with ``y0`` still 0.

    Impossible geometry (a resolution below one pixel, a size that is not a
    positive number) raises ``ScanImageFileError`` naming ``path`` and the ROI.
    """
    placed = []
    for roi_id, roi in enumerate(rois):
        if not roi.get("enable", 1):
            continue
        sf = _scanfield_at(roi, z)
        if sf is None or not sf.get("enable", 1):
            continue
        name = f"imaging ROI {roi_id + 1} ({roi.get('name') or 'unnamed'!r})"
        width, height = (int(v) for v in _pair(sf, "pixelResolutionXY", None, 1.0, path, name))
        cx, cy = _pair(sf, "centerXY", [0.0, 0.0], -math.inf, path, name)
        sx, sy = _pair(sf, "sizeXY", [width, height], math.ulp(0.0), path, name)
        corner = ((cy - sy / 2) * um_per_degree, (cx - sx / 2) * um_per_degree)
        if math.isfinite(um_per_degree) and not all(map(math.isfinite, corner)):
            where = f"centerXY [{cx:g}, {cy:g}], sizeXY [{sx:g}, {sy:g}]"
            msg = f"{name} lies beyond any field of view ({where})"
            raise ScanImageFileError(path, msg)
        placed.append(
            RoiPlacement(
                roi_id=roi_id,
                name=str(roi.get("name") or f"ROI {roi_id + 1}"),
                depth_index=depth_index,
                y0=0,
                height=height,
                width=width,
                top_left_um=corner,
                pixel_size_um=(sy * um_per_degree / height, sx * um_per_degree / width),
            )
        )
    return placed


def _pair(
    scanfield: dict[str, Any],
    key: str,
    default: list[float] | None,
    minimum: float,
    path: str | None,
    roi: str,
) -> tuple[float, float]:
    """A scanfield's ``[x, y]`` value, both finite and >= ``minimum``, or our error."""
    value = scanfield.get(key, default)
    pair = value[:2] if isinstance(value, list) and len(value) >= 2 else []
    numbers = [v for v in pair if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 2 or not all(math.isfinite(v) and v >= minimum for v in numbers):
        kind = "numbers" if minimum == -math.inf else "positive numbers"
        msg = f"{roi} has {key} = {value!r}; expected two finite {kind}"
        raise ScanImageFileError(path, msg)
    return float(numbers[0]), float(numbers[1])
