"""Reader preferences so ScanImage files open with this plugin without a dialog.

napari asks which reader to use when several match ``*.tif`` and no
preference is saved.  It picks the most specific saved pattern, and ranks
absolute patterns first, so ``/*_[0-9]{5}.tif`` (every path whose name ends in
ScanImage's five-digit counter) beats ``*.tif``, which is pointed at napari's
own reader only when the user has not chosen one.

Stores (``*.zarr``) are deliberately not routed.  A folder matches a preference
only as ``*.zarr/`` (napari appends the separator), and napari then calls *only*
the preferred reader: when ours declines a store it did not write, napari does
not fall back to the other readers but raises ``ReaderPluginError`` (the GUI
shows the reader dialog with an error).  So our stores open with
``viewer.open(path, plugin="napari-scanimage")``, ``napari --plugin
napari-scanimage path``, or by choosing "ScanImage" in the drop dialog.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PLAIN_TIFF_PATTERNS", "SCANIMAGE_PATTERNS", "set_default_reader"]

PLUGIN = "napari-scanimage"
_COUNTER = "[0-9]" * 5
SCANIMAGE_PATTERNS = (f"/*_{_COUNTER}.tif", f"/*_{_COUNTER}.tiff")
PLAIN_TIFF_PATTERNS = ("*.tif", "*.tiff")


def set_default_reader(settings: Any = None) -> dict[str, str]:
    """Save the preferences; returns the patterns that were added or changed.

    Patterns the user set for other files are left as they are.
    """
    if settings is None:
        from napari.settings import get_settings  # noqa: PLC0415

        settings = get_settings()
    current = dict(settings.plugins.extension2reader)
    changes = {p: PLUGIN for p in SCANIMAGE_PATTERNS if current.get(p) != PLUGIN}
    changes |= {p: "napari" for p in PLAIN_TIFF_PATTERNS if p not in current}
    if changes:
        settings.plugins.extension2reader = {**current, **changes}
    return changes
