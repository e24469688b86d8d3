"""A small synthetic mROI recording, written on demand for demos and napari's sample menu."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

if TYPE_CHECKING:
    import os

__all__ = ["SAMPLE_SPEC", "write_sample_scan"]

# Three ROIs over two depths, two channels: two strips that touch (so joining
# has something to join) and a small ROI elsewhere, imaged at both depths, all
# sampling one continuous "tissue" so the stitched mosaic is seamless once
# trimmed and phase-corrected.
SAMPLE_SPEC = ScanSpec(
    version=2021,
    rois=(
        RoiSpec(name="strip 1", center_xy=(-3.0, 0.0), size_xy=(6.0, 9.0), pixels_xy=(96, 144)),
        RoiSpec(name="strip 2", center_xy=(3.0, 0.0), size_xy=(6.0, 9.0), pixels_xy=(96, 144)),
        RoiSpec(name="spot", center_xy=(10.0, -5.0), size_xy=(4.0, 4.0), pixels_xy=(64, 64)),
    ),
    channels=(1, 2),
    stack="fast",
    zs=(0.0, 40.0),
    flyback_frames=1,
    num_frames=30,
    content="tissue",
    # flaws to find with the panel's QC tools: a scan-phase comb, dim edge columns
    scan_phase=1.5,
    edge_columns=3,
)


def write_sample_scan(directory: str | os.PathLike[str]) -> list[Path]:
    """Write the sample scan into ``directory`` (created if needed); returns its files."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    return list(write_scan(folder, SAMPLE_SPEC, stem="sample").paths)
