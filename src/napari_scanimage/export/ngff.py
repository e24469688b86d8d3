"""OME-NGFF metadata of one field's image group (``multiscales`` and ``omero``).

NGFF 0.4 puts both at the top of the group's attributes, with a ``version`` in
each; NGFF 0.5 puts them under one ``ome`` key whose ``version`` is ``"0.5"``.

Placement follows NGFF's coordinate convention, which napari shares: array
index ``(0, 0)`` is the *centre* of the first pixel.  So the translation is the
field's outer corner (``Field.top_left_um``) plus half a pixel, and a viewer
shows the exported field exactly where the live scan's layer is.  Time is in
seconds (``1 / fps`` per frame) and, for scans with several depths, z is a
length-1 axis placed at the field's depth in µm.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.export.plan import ImagePlan

from napari_scanimage.scan.display import channel_color, shown_at_first

__all__ = ["NGFF_VERSION", "image_attrs", "ome_attrs", "placement"]

NGFF_VERSION = "0.4"
"""The default version written."""


def placement(
    image: ImagePlan, *, fps: float, z_step: float | None, has_z: bool
) -> tuple[list[dict[str, Any]], list[float], list[float]]:
    """The ``axes``, ``scale`` and ``translation`` of one image."""
    f = image.field
    # where the file gives no size in µm (ScanImage 3-5.1), y and x stay in pixels
    known = f.pixel_size_known
    dy, dx = f.pixel_size_um if known else (1.0, 1.0)
    y0, x0 = f.top_left_um if known else (0.0, 0.0)
    timed = math.isfinite(fps) and fps > 0
    time_axis: dict[str, Any] = {"name": "t", "type": "time"}
    if timed:
        time_axis["unit"] = "second"
    axes = [time_axis, {"name": "c", "type": "channel"}]
    scale = [1.0 / fps if timed else 1.0, 1.0]
    translation = [0.0, 0.0]
    if has_z:
        axes.append(_space("z"))
        # one plane per array: the step only gives it a thickness
        scale.append(abs(z_step) if z_step else 1.0)
        translation.append(float(f.depth))
    axes += [_space("y", known), _space("x", known)]
    scale += [dy, dx]
    translation += [y0 + dy / 2, x0 + dx / 2]
    return axes, scale, translation


def _space(name: str, in_um: bool = True) -> dict[str, Any]:
    axis = {"name": name, "type": "space"}
    return axis | {"unit": "micrometer"} if in_um else axis


def image_attrs(
    image: ImagePlan,
    *,
    name: str,
    fps: float,
    z_step: float | None,
    has_z: bool,
    channel_numbers: Sequence[int],
    windows: Sequence[dict[str, float]],
    version: str = NGFF_VERSION,
) -> dict[str, Any]:
    """``multiscales`` (one level, dataset ``"0"``) and ``omero`` display settings.

    Channel labels repeat the image's name (``scan_00001 · field 1 · ch 2``, as
    the live layers are named) because viewers name a layer after its channel
    alone, and every field has a "ch 1".
    """
    axes, scale, translation = placement(image, fps=fps, z_step=z_step, has_z=has_z)
    multiscale: dict[str, Any] = {
        "name": name,
        "axes": axes,
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "scale", "scale": scale},
                    {"type": "translation", "translation": translation},
                ],
            }
        ],
    }
    channels = [
        {
            "label": f"{name} · ch {number}",
            "color": channel_color(number)[1],  # the live layers' colour
            "active": shown_at_first(position, len(channel_numbers)),
            "coefficient": 1.0,
            "family": "linear",
            "inverted": False,
            "window": dict(window),
        }
        for position, (number, window) in enumerate(zip(channel_numbers, windows, strict=True))
    ]
    omero: dict[str, Any] = {
        "name": name,
        "channels": channels,
        "rdefs": {"model": "color", "defaultT": 0, "defaultZ": 0},
    }
    if version == "0.4":
        multiscale = {"version": version, **multiscale}
        omero = {**omero, "version": version}
        return {"multiscales": [multiscale], "omero": omero}
    return ome_attrs({"multiscales": [multiscale], "omero": omero}, version)


def ome_attrs(attrs: dict[str, Any], version: str) -> dict[str, Any]:
    """NGFF 0.5's form: everything under ``ome``, with the version once."""
    return {"ome": {"version": version, **attrs}}
