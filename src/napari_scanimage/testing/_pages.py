"""One page: its per-frame description and its IFD, description slot and strips."""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

from napari_scanimage.testing._constants import _ACQ_TRIGGER, _IFD_SIZE
from napari_scanimage.testing._layout import _align, _require
from napari_scanimage.testing._matlab_text import _Cell, _js, _mat

if TYPE_CHECKING:
    import numpy.typing as npt

    from napari_scanimage.testing._specs import ScanSpec


def _description(spec: ScanSpec, plane: int, last_plane: int) -> str:
    """Return the frame-varying description of ScanImage frame ``plane`` (0-based)."""
    # slow stacks: one acquisition per slice; otherwise one acquisition in all
    per_acq = spec.num_frames if spec.stack == "slow" else plane + 1
    acq, in_acq = divmod(plane, per_acq)
    end_acq = plane == last_plane or (spec.stack == "slow" and in_acq == per_acq - 1)
    year = int(str(spec.version)[:4])
    values: dict[str, object] = {
        "frameNumbers": plane + 1,
        "acquisitionNumbers": acq + 1,
        "frameNumberAcquisition": in_acq + 1,
        # averaged pages are stamped with their raw frames' times
        "frameTimestamps_sec": plane
        * spec.average_factor
        / (spec.timestamp_rate or spec.frame_rate),
        "acqTriggerTimestamps_sec": (plane - in_acq) / spec.frame_rate + _ACQ_TRIGGER,
        "nextFileMarkerTimestamps_sec": -1.0,
        "endOfAcquisition": int(end_acq),
        "endOfAcquisitionMode": int(plane == last_plane),
        "dcOverVoltage": 0,
        "epoch": [year, 11, 5, 9, 50, 13.56],
        **{f"auxTrigger{i}": [] for i in range(4)},
        "I2CData": _Cell(),
    }
    if spec.description_format == "json":
        exact = {k: round(v, 9) for k, v in values.items() if isinstance(v, float)}
        return json.dumps({k: _js(v) for k, v in values.items()} | exact)
    text = {k: f"{v:.9f}" if isinstance(v, float) else _mat(v) for k, v in values.items()}
    text["epoch"] = f"[{year} 11  5  9 50 13.560]"  # MATLAB's num2str spacing
    return "\n".join(f"{k} = {v}" for k, v in text.items())


_Tag = tuple[int, int, bytes]  # TIFF type, count, inline value or offset


def _page(
    offset: int,
    image: npt.NDArray[Any],
    text: str,
    slot: int,
    last: bool,
    strips: int,
    shared: dict[int, _Tag],
) -> tuple[bytes, int]:
    """Return IFD + description + strips written at ``offset``, and the next IFD offset.

    ``shared`` holds the tags identical on every page (resolution, Software, Artist).
    """
    height, width = image.shape
    desc = (text + "\n").ljust(slot).encode("ascii") + b"\0"
    _require(len(desc) == slot + 1, "descriptions do not fit description_slot")
    rows = -(-height // strips)
    nstrips = -(-height // rows)
    row_bytes = width * image.itemsize
    desc_at = offset + _IFD_SIZE
    arrays_at = _align(desc_at + len(desc))
    data_at = arrays_at + (16 * nstrips if nstrips > 1 else 0)
    offsets = [data_at + i * rows * row_bytes for i in range(nstrips)]
    counts = [min(rows, height - i * rows) * row_bytes for i in range(nstrips)]
    pixels = image.astype(image.dtype.newbyteorder("<")).tobytes()
    end = data_at + len(pixels)
    next_ifd = 0 if last else _align(end)

    def short(value: int) -> _Tag:  # SHORT, or LONG when it does not fit
        if value < 65536:
            return 3, 1, struct.pack("<H", value)
        return 4, 1, struct.pack("<I", value)

    def inline_or_array(values: list[int], at: int) -> _Tag:
        return 16, len(values), struct.pack("<Q", values[0] if len(values) == 1 else at)

    tags = shared | {
        256: short(width),
        257: short(height),
        258: short(image.itemsize * 8),
        259: short(1),  # no compression
        262: short(1),  # min-is-black
        270: (2, len(desc), struct.pack("<Q", desc_at)),
        273: inline_or_array(offsets, arrays_at),
        274: short(1),
        277: short(1),
        278: short(rows),
        279: inline_or_array(counts, arrays_at + 8 * nstrips),
        284: short(1),
        296: short(3),  # centimetre
        339: short(2 if image.dtype.kind == "i" else 1),
    }
    ifd = struct.pack("<Q", len(tags)) + b"".join(
        struct.pack("<HHQ", tag, typ, count) + value.ljust(8, b"\0")
        for tag, (typ, count, value) in sorted(tags.items())
    )
    blob = ifd + struct.pack("<Q", next_ifd) + desc.ljust(arrays_at - desc_at, b"\0")
    if nstrips > 1:  # out-of-line StripOffsets and StripByteCounts arrays
        blob += struct.pack(f"<{2 * nstrips}Q", *offsets, *counts)
    blob += pixels + (b"" if last else b"\0" * (next_ifd - end))
    return blob, next_ifd
