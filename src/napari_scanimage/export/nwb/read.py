"""Reading an NWB file back: its series for ``napari-scanimage info FILE.nwb``, and completeness.

:func:`nwb_info` opens the file with pynwb and lists every ``TwoPhotonSeries``
in ``acquisition`` (ours or anyone's) with its shape, dtype, rate and where its
imaging plane lies, so a user can choose suite2p's ``nwb_series``.
:func:`written_by_us` only peeks with h5py, for the batch's resume check.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb.plan import GENERATOR
from napari_scanimage.export.nwb.requires import require_nwb

__all__ = ["NwbInfo", "SeriesInfo", "format_nwb_info", "nwb_info", "written_by_us"]


@dataclass(frozen=True)
class SeriesInfo:
    """One ``TwoPhotonSeries`` as ``info`` lists it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    rate: float | None
    """Frames per second (from ``rate``, or the mean step of ``timestamps``)."""
    plane: str
    origin: tuple[float, ...] | None
    """The plane's ``origin_coords`` (x, y[, z]), in ``unit``; None where absent."""
    spacing: tuple[float, ...] | None
    unit: str


@dataclass(frozen=True)
class NwbInfo:
    """What ``napari-scanimage info FILE.nwb`` prints."""

    path: str
    session_start_time: str
    generated_by: list[list[str]]
    series: list[SeriesInfo]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "path": self.path,
            "session_start_time": self.session_start_time,
            "generated_by": self.generated_by,
            "series": [vars(s) | {"shape": list(s.shape)} for s in self.series],
        }


def nwb_info(path: str | os.PathLike[str]) -> NwbInfo:
    """Every ``TwoPhotonSeries`` of an NWB file, in the file's order."""
    require_nwb()
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such file")
    from pynwb import NWBHDF5IO  # noqa: PLC0415 - pynwb loads on demand
    from pynwb.ophys import TwoPhotonSeries  # noqa: PLC0415

    try:
        io = NWBHDF5IO(str(path), mode="r")
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: cannot open as an NWB file ({exc})") from exc
    with io:
        nwbfile = io.read()
        series = [
            _series(s) for s in nwbfile.acquisition.values() if isinstance(s, TwoPhotonSeries)
        ]
        generated = [[str(v) for v in row] for row in (nwbfile.was_generated_by or [])]
        return NwbInfo(str(path), nwbfile.session_start_time.isoformat(), generated, series)


def _series(s: Any) -> SeriesInfo:
    plane = s.imaging_plane
    rate = s.rate
    if rate is None and s.timestamps is not None and len(s.timestamps) > 1:
        stamps = s.timestamps
        rate = (len(stamps) - 1) / float(stamps[-1] - stamps[0])
    origin = None if plane.origin_coords is None else tuple(float(v) for v in plane.origin_coords)
    spacing = None if plane.grid_spacing is None else tuple(float(v) for v in plane.grid_spacing)
    return SeriesInfo(
        name=s.name,
        shape=tuple(int(n) for n in s.data.shape),
        dtype=str(s.data.dtype),
        rate=None if rate is None else float(rate),
        plane=plane.name,
        origin=origin,
        spacing=spacing,
        unit=plane.origin_coords_unit or "",
    )


def format_nwb_info(info: NwbInfo) -> str:
    """Text for the terminal: one line per series."""
    tools = ", ".join(" ".join(row) for row in info.generated_by) or "not stated"
    lines = [
        f"{info.path}",
        f"  session start {info.session_start_time}; written by {tools}",
        f"  {len(info.series)} TwoPhotonSeries (suite2p: nwb_series = NAME; data is "
        "(frames, y, x) in files written by napari-scanimage):",
    ]
    width = max((len(s.name) for s in info.series), default=0)
    for s in info.series:
        shape = " x ".join(str(n) for n in s.shape)
        rate = "" if s.rate is None or not math.isfinite(s.rate) else f", {s.rate:.4g} Hz"
        place = "position unknown"
        if s.origin is not None:
            unit = "µm" if s.unit == "micrometers" else s.unit
            coords = ", ".join(f"{a} {v:.4g}" for a, v in zip("xyz", s.origin, strict=False))
            place = f"top-left {coords} {unit}"
            if s.spacing is not None:
                place += f", {s.spacing[0]:.4g} {unit}/pixel"
        lines.append(f"  {s.name:<{width}}  {shape} {s.dtype}{rate}  {place}")
    return "\n".join(lines)


def written_by_us(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an NWB file this exporter completed (reads one small dataset)."""
    import h5py  # noqa: PLC0415 - only NWB exports need it

    try:
        with h5py.File(path, "r") as handle:
            rows = handle.get("general/was_generated_by")
            values = rows[()].tolist() if rows is not None else []
    except OSError:
        return False
    names = [row[0] for row in values if len(row)]
    return any((n.decode() if isinstance(n, bytes) else str(n)) == GENERATOR for n in names)
