"""Fields that are shown together: one ROI imaged at consecutive depths.

napari shows such a run as one layer with a z axis, the OME-Zarr store reopens
it the same way, and its display range is computed over the whole run, so the
live layers and a reopened store look alike.  Geometry only: no reading here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.scan.fields import Field

__all__ = ["FieldGroup", "group_fields"]


@dataclass(frozen=True)
class FieldGroup:
    """Fields shown as one layer: one field, or one ROI over consecutive depths."""

    number: int
    """1-based, as shown in layer names."""
    fields: tuple[Field, ...]


def _geometry_key(field: Field) -> tuple[Any, ...]:
    return (field.roi_ids, field.height, field.width, field.top_left_um, field.pixel_size_um)


def group_fields(chosen: Sequence[Field]) -> list[FieldGroup]:
    """One group per ROI imaged at consecutive depths with one geometry, else per field."""
    runs: list[list[Field]] = []
    for field in sorted(chosen, key=lambda f: (f.depth_index, f.index)):
        for run in runs:
            last = run[-1]
            if (
                _geometry_key(last) == _geometry_key(field)
                and field.depth_index == last.depth_index + 1
            ):
                run.append(field)
                break
        else:
            runs.append([field])
    runs.sort(key=lambda run: run[0].index)
    return [FieldGroup(number=i + 1, fields=tuple(run)) for i, run in enumerate(runs)]
