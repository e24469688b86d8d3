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
same settings and the same source files (compared by content, :mod:`.sources`)
knows which chunks it can keep.

The root record lists what the conversion creates (``written``), so replacing a
store (``overwrite``) deletes exactly that and refuses when anything else is
inside (:mod:`.removal`).  An input file inside the output is refused before
anything is touched.
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
from napari_scanimage.export.removal import Listing, check_outside, remove_listed
from napari_scanimage.export.sources import check_sources

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.export.plan import ExportPlan, ImagePlan

__all__ = [
    "ARRAY",
    "NOT_DONE",
    "RECORDS",
    "array_path",
    "finish",
    "listing",
    "prepare",
    "records_path",
]

ARRAY = "0"
"""The one resolution level of each image."""
RECORDS = "napari_scanimage_done"
NOT_DONE = -1
"""Record value of a chunk not (yet) written."""
OME_XML = "OME/METADATA.ome.xml"
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
    check_outside(plan.recipe.files, path)
    record = {**record, "written": listing(plan)}
    if overwrite and (path.exists() or path.is_symlink()):
        _remove(path)
    existing = _read_record(path)
    if existing is not None:
        _check_sources(path, existing, record)
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


def listing(plan: ExportPlan) -> Listing:
    """What a conversion creates: groups, arrays and plain files, relative to the store."""
    return _listing_of([image.path for image in plan.images])


def _listing_of(images: Sequence[str]) -> Listing:
    return {
        "groups": ["", *images, RECORDS, "OME"],
        "arrays": [f"{image}/{ARRAY}" for image in images]
        + [f"{RECORDS}/{image}" for image in images],
        "files": [OME_XML],
    }


def _recorded_listing(path: Path, record: dict[str, Any]) -> Listing:
    """The store's own listing; for stores of earlier versions, the one its images imply."""
    written = record.get("written")
    if isinstance(written, dict) and all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in written.values()
    ):
        return written
    images = record.get("images")
    if isinstance(images, list) and all(isinstance(i, dict) for i in images):
        return _listing_of([str(i.get("path")) for i in images])
    raise ExportError(f"refusing to replace {path}: its record does not say what it holds")


def _check_sources(path: Path, existing: dict[str, Any], record: dict[str, Any]) -> None:
    """A store is resumed (or found complete) only from the very files it was made from."""
    recorded = existing.get("sources")
    if existing.get("complete") is True:
        if recorded is None:  # complete before sources were recorded: nothing to resume
            return
        if isinstance(recorded, list):  # a finished store is not touched: content counts
            recorded = [{**s, "mtime_ns": None} for s in recorded if isinstance(s, dict)]
            current = [{**s, "mtime_ns": None} for s in record["sources"]]
            check_sources(recorded, current, str(path))
            return
    check_sources(recorded, record["sources"], str(path))


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
    (path / OME_XML).write_text(ome_xml, encoding="utf-8")
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
    """Delete an old conversion (only what it wrote); never a store this package did not write."""
    if path.is_symlink():
        raise ExportError(f"refusing to replace {path}: it is a symbolic link")
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        return
    if path.is_dir() and any((path / m).is_file() for m in _ZARR_MARKERS):
        try:
            existing = _read_record(path)
        except ExportError:
            existing = None
        if existing is not None:
            remove_listed(path, _recorded_listing(path, existing))
            return
        msg = f"refusing to replace {path}: it is a Zarr store that napari-scanimage did not write"
        raise ExportError(msg)
    raise ExportError(f"refusing to replace {path}: it is not a Zarr store")


def _drop_records(path: Path) -> None:
    shutil.rmtree(path / RECORDS, ignore_errors=True)
