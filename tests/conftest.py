"""Shared fixtures: scans written by the package's own faithful ScanImage writer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from napari_scanimage.testing import RoiSpec, ScanSpec, WrittenScan, write_scan

if TYPE_CHECKING:
    from collections.abc import Callable

# napari's settings (reader preferences among them) go to a throwaway file, never the
# user's: set before anything imports napari.settings, which reads it once.
os.environ["NAPARI_CONFIG"] = str(
    Path(tempfile.mkdtemp(prefix="napari-scanimage-tests-")) / "settings.yaml"
)

# Summaries sum with numba and build no ahead-compiled kernels into the user's cache
# (tests/scan/test_sums_library.py builds its own in a temporary folder).
os.environ.setdefault("NAPARI_SCANIMAGE_KERNEL_CACHE", "off")

# Real recordings made by ScanImage (see its CATALOG.md); never copied into the repo.
REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
requires_real_data = pytest.mark.skipif(
    not REAL_DATA.is_dir(), reason=f"real ScanImage recordings not found at {REAL_DATA}"
)


# Two strips that touch and a small spot elsewhere: µm = degrees x 15 (objective resolution)
STRIPS = (
    RoiSpec(name="s1", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="s2", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(24, 32)),
    RoiSpec(name="spot", center_xy=(12.0, 6.0), size_xy=(3.0, 3.0), pixels_xy=(16, 16)),
)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., WrittenScan]:
    """Write a synthetic scan into its own folder under ``tmp_path``."""
    counter = iter(range(1_000_000))

    def _write(spec: ScanSpec | None = None, **kwargs: object) -> WrittenScan:
        folder = tmp_path / f"scan{next(counter)}"
        folder.mkdir()
        return write_scan(folder, spec or ScanSpec(), **kwargs)  # type: ignore[arg-type]

    return _write
