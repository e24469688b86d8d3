"""The Zarr hierarchy on disk: create it, resume it, record chunks, mark it complete.

Layout (NGFF 0.4: Zarr format 2, ``/`` chunk keys; NGFF 0.5: Zarr format 3,
sharded arrays, the OME attributes under ``ome``)::

    out.zarr/                 root: attrs["napari_scanimage"] (settings, complete, ...)
      0/                      one OME-NGFF image per exported field
        0/                    its array (t, c, [z,] y, x)
      1/ ...
      OME/METADATA.ome.xml    written last, with "bioformats2raw.layout" on the root
      napari_scanimage_done/  only while converting: one int64 array per image,
                              [time block, channel] = checksum of the block written
                              (a chunk in NGFF 0.4, a shard in 0.5)

Safety rests on order.  The root record (``complete: False``) and the array
metadata come first; a chunk's checksum is recorded only after the chunk is stored;
the OME metadata that make readers treat a group as an image, and
``complete: True``, are written only after every chunk is in.  An interrupted
conversion therefore never looks like a finished image, and a re-run with the
same settings knows which chunks it can keep.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from napari_scanimage.export.describe import KEY, field_record, store_attributes
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.ngff import ome_attrs
from napari_scanimage.export.plan import codec_config

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.export.plan import ExportPlan, ImagePlan

__all__ = [
    "ARRAY",
    "NOT_DONE",
    "RECORDS",
    "array_path",
    "finish",
    "prepare",
    "records_path",
]

ARRAY = "0"
"""The one resolution level of each image."""
RECORDS = "napari_scanimage_done"
NOT_DONE = -1
"""Record value of a chunk not (yet) written."""
_ZARR_MARKERS = (".zgroup", ".zarray", "zarr.json")


def array_path(root: str | Path, image: str) -> str:
    """Path of an image's array."""
    return str(Path(root) / image / ARRAY)


def records_path(root: str | Path, image: str) -> str:
    """Path of an image's done records (while converting)."""
    return str(Path(root) / RECORDS / image)


def prepare(
    path: Path, plan: ExportPlan, record: dict[str, Any], *, overwrite: bool
) -> dict[str, np.ndarray] | None:
    """Create the store, or find where an interrupted conversion stopped.

    Returns each image's recorded checksums (``NOT_DONE`` where missing), or None
    when the store is already complete with these settings.
    """
    if overwrite and path.exists():
        _remove(path)
    existing = _read_record(path)
    if existing is not None and existing.get("settings") != record["settings"]:
        changed = sorted(
            k
            for k in {*existing.get("settings", {}), *record["settings"]}
            if existing.get("settings", {}).get(k) != record["settings"].get(k)
        )
        msg = (
            f"{path} holds a conversion with other settings ({', '.join(changed)}); "
            "pass overwrite=True (--overwrite) to replace it"
        )
        raise ExportError(msg)
    if existing is not None and existing.get("complete"):
        _drop_records(path)
        return None
    root = zarr.open_group(str(path), mode="a", zarr_format=plan.zarr_format)  # type: ignore[arg-type]
    if existing is None:
        root.attrs.put({KEY: record})  # first: what this store is becoming
    records = root.require_group(RECORDS)
    recorded = {}
    for image in plan.images:
        group = root.require_group(image.path)
        if KEY not in group.attrs:
            group.attrs.put({KEY: field_record(image)})
        group.require_array(ARRAY, shape=image.shape, **_array_options(plan, image))
        done = records.require_array(
            image.path,
            shape=(plan.num_blocks, len(plan.channels)),
            chunks=(1, 1),  # one file per chunk record: workers never share a file
            dtype="int64",
            fill_value=NOT_DONE,
            compressors=None,
        )
        # a new store has no records to read (reading thousands of absent ones costs)
        fresh = np.full(done.shape, NOT_DONE, dtype=np.int64)
        recorded[image.path] = fresh if existing is None else np.asarray(done[...])
    return recorded


def _array_options(plan: ExportPlan, image: ImagePlan) -> dict[str, Any]:
    options: dict[str, Any] = {
        "chunks": image.chunks,
        "dtype": plan.recipe.dtype,
        "fill_value": 0,
        "compressors": codec_config(plan.compression, plan.zarr_format),
    }
    if plan.zarr_format == 2:
        return options | {"chunk_key_encoding": {"name": "v2", "separator": "/"}}
    # NGFF 0.5: the array's dimension names are the axes' names
    names = ["t", "c", "z", "y", "x"] if plan.has_z else ["t", "c", "y", "x"]
    return options | {"shards": image.shards, "dimension_names": names}


def finish(
    path: Path, plan: ExportPlan, image_attrs: Sequence[dict[str, Any]], ome_xml: str
) -> None:
    """Write what makes the store a finished OME-Zarr collection, then drop the records."""
    root = zarr.open_group(str(path), mode="r+", zarr_format=plan.zarr_format)  # type: ignore[arg-type]
    for image, attrs in zip(plan.images, image_attrs, strict=True):
        root[image.path].attrs.update(attrs)
    ome = root.require_group("OME")
    series: dict[str, Any] = {"series": [image.path for image in plan.images]}
    layout: dict[str, Any] = {"bioformats2raw.layout": 3}
    if plan.ngff != "0.4":
        series, layout = ome_attrs(series, plan.ngff), ome_attrs(layout, plan.ngff)
    ome.attrs.put(series)
    (path / "OME" / "METADATA.ome.xml").write_text(ome_xml, encoding="utf-8")
    record = dict(root.attrs[KEY])  # type: ignore[arg-type]
    record["complete"] = True
    root.attrs.update({**layout, KEY: record})  # one write: complete
    _drop_records(path)


def _read_record(path: Path) -> dict[str, Any] | None:
    """Our record of an existing store; None where nothing (or an empty folder) is."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return None
    attrs = store_attributes(path)
    record = None if attrs is None else attrs.get(KEY)
    if not isinstance(record, dict) or "settings" not in record:
        msg = (
            f"{path} exists and is not a napari-scanimage conversion; "
            "pass overwrite=True (--overwrite) to replace it"
        )
        raise ExportError(msg)
    return record


def _remove(path: Path) -> None:
    """Delete an old conversion; never a folder or store that this package did not write."""
    if path.is_dir() and not any(path.iterdir()):
        shutil.rmtree(path)
        return
    if path.is_dir() and any((path / m).is_file() for m in _ZARR_MARKERS):
        try:
            ours = _read_record(path) is not None
        except ExportError:
            ours = False
        if ours:
            shutil.rmtree(path)
            return
        msg = f"refusing to replace {path}: it is a Zarr store that napari-scanimage did not write"
        raise ExportError(msg)
    raise ExportError(f"refusing to replace {path}: it is not a Zarr store")


def _drop_records(path: Path) -> None:
    shutil.rmtree(path / RECORDS, ignore_errors=True)
