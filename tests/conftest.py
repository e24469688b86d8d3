"""Shared fixtures: scans written by the package's own faithful ScanImage writer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from napari_scanimage.testing import ScanSpec, WrittenScan, write_scan

if TYPE_CHECKING:
    from collections.abc import Callable

# Real recordings made by ScanImage (see its CATALOG.md); never copied into the repo.
REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
requires_real_data = pytest.mark.skipif(
    not REAL_DATA.is_dir(), reason=f"real ScanImage recordings not found at {REAL_DATA}"
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
