"""Join ROIs of one depth that touch side by side into one wide field.

Large fields of view are often imaged as several adjacent strips; joining them
gives the contiguous image a user expects.  Two ROIs join when they have the
same height in pixels and µm, the same vertical position, and the right edge of
one meets the left edge of the next within a fraction of a pixel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from napari_scanimage.scan.fields import RoiPlacement

__all__ = ["join_contiguous"]

_TOLERANCE_PX = 0.5


def _touching(left: RoiPlacement, right: RoiPlacement) -> bool:
    dy, dx = left.pixel_size_um
    return (
        left.height == right.height
        and math.isclose(dy, right.pixel_size_um[0], rel_tol=1e-6)
        and math.isclose(dx, right.pixel_size_um[1], rel_tol=1e-6)
        and abs(left.top_left_um[0] - right.top_left_um[0]) <= _TOLERANCE_PX * dy
        and abs(left.right_edge_um() - right.top_left_um[1]) <= _TOLERANCE_PX * dx
    )


def join_contiguous(rois: list[RoiPlacement]) -> list[list[RoiPlacement]]:
    """Group the ROIs of one depth into runs that touch, left to right.

    The groups keep the order of their first ROI in the page, so a scan without
    touching ROIs yields one group per ROI in the original order.

    Examples
    --------
    >>> from napari_scanimage.scan.fields import RoiPlacement
    >>> def roi(i, x):
    ...     return RoiPlacement(roi_id=i, name=str(i), depth_index=0, y0=0, height=4,
    ...                         width=2, top_left_um=(0.0, x), pixel_size_um=(1.0, 1.0))
    >>> [[r.roi_id for r in g] for g in join_contiguous([roi(0, 2.0), roi(1, 0.0), roi(2, 9.0)])]
    [[1, 0], [2]]
    """
    remaining = sorted(rois, key=lambda r: r.top_left_um[1])
    groups: list[list[RoiPlacement]] = []
    while remaining:
        group = [remaining.pop(0)]
        extended = True
        while extended:
            extended = False
            for candidate in remaining:
                if _touching(group[-1], candidate):
                    group.append(candidate)
                    remaining.remove(candidate)
                    extended = True
                    break
        groups.append(group)
    order = {id(r): i for i, r in enumerate(rois)}
    return sorted(groups, key=lambda g: min(order[id(r)] for r in g))
