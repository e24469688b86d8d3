"""Where each running sum lives in the totals array, for the summing code and its kernels.

The one home of these numbers: :mod:`~napari_scanimage.scan.running_sums`
(which reads the totals) and :mod:`~napari_scanimage.scan.running_sums_kernel`
(which fills them) both import them from here, and not from each other.
"""

from __future__ import annotations

__all__ = ["CROSS", "OFFSETS", "PLANES", "SQUARES", "TOTAL"]

OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))
"""Neighbour offsets (dy, dx); with their mirror images, the 8 neighbours."""

TOTAL, SQUARES, CROSS = 0, 1, 2
"""Planes of the totals: sum, sum of squares, then one per ``OFFSETS`` entry."""

PLANES = CROSS + len(OFFSETS)
"""Planes of the totals when every sum is kept."""
