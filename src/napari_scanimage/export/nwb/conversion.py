"""What an NWB file was made from, so a re-run never keeps another recording's file.

The file records its source files' identities (size, modification time or ETag,
a digest of sampled bytes; see :mod:`~napari_scanimage.export.sources`) and the
settings it was written with.  A batch re-run skips a complete file only when
both match; otherwise that acquisition fails with a message, as an OME-Zarr
store with other settings does, until ``--overwrite``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.recipe import ScanRecipe
from napari_scanimage.export.sources import check_sources, source_identity

if TYPE_CHECKING:
    import os

    from napari_scanimage.export.nwb.plan import NwbPlan
    from napari_scanimage.scan.scan import Scan

__all__ = ["check_same_conversion", "conversion_record"]


def conversion_record(scan: Scan, plan: NwbPlan) -> dict[str, Any]:
    """The sources and settings of a conversion, as JSON-ready values."""
    recipe = ScanRecipe.of(scan)
    return {
        "sources": source_identity(recipe.files, recipe.urls, recipe.options_given()),
        "settings": {
            "files": list(recipe.files),
            "num_frames": plan.num_frames,
            "fields": [f.index for f in plan.fields],
            "channels": list(plan.channels),
            "compression": plan.compression,
            "compression_level": plan.compression_level,
            **recipe.read_settings(),
        },
    }


def check_same_conversion(
    recorded: dict[str, Any] | None, now: dict[str, Any], path: str | os.PathLike[str]
) -> None:
    """Refuse to keep ``path`` unless it was made from these files with these settings."""
    if not isinstance(recorded, dict):
        msg = (
            f"{path}: an NWB file that does not record what it was made from, so it "
            "cannot be kept safely; pass overwrite=True (--overwrite) to write it anew"
        )
        raise ExportError(msg)
    check_sources(recorded.get("sources"), now["sources"], str(path))
    before = recorded.get("settings")
    before = before if isinstance(before, dict) else {}
    changed = sorted(k for k, v in now["settings"].items() if before.get(k) != v)
    if changed:
        msg = (
            f"{path}: holds a conversion with other settings ({', '.join(changed)}); "
            "pass overwrite=True (--overwrite) to replace it"
        )
        raise ExportError(msg)
