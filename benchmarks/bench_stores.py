"""What the store safety costs: identifying sources, replacing stores, reopening them checked.

Uses the synthetic single-ROI file of ``bench_export.py`` (default 2,000 pages of
512x512 int16, 1.05 GB), warm in the page cache, medians over --repeats, each row
against the floor measured in the same run:

- source identity (size, mtime, sampled digest: what a conversion records and a
  resume compares) against ``cat FILE > /dev/null`` and against the conversion itself
- ``--overwrite``'s removal (walk, check every entry against the store's listing,
  delete) against ``shutil.rmtree`` of the same store (NGFF 0.4, one file per frame:
  the most files a store of this recording can have)
- reopening a store as layers, every record checked (``store_layer_data``), against
  opening its arrays with plain Zarr and dask (``zarr.open_array`` + ``da.from_zarr``),
  and reading one frame through the layer against reading it from the Zarr array (napari
  turns dask's fusion off, so it reads the frame's whole chunk, as from ``da.from_zarr``)

    python benchmarks/bench_stores.py [--pages 2000] [--size 512] [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from common import add_export_args, cat, export_scan, median_time

from napari_scanimage._napari._zarr_reader import store_layer_data
from napari_scanimage.export import to_zarr
from napari_scanimage.export.convert import plan_for
from napari_scanimage.export.removal import remove_listed
from napari_scanimage.export.sources import source_identity
from napari_scanimage.export.store import listing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_args(parser)
    args = parser.parse_args(argv)

    path, scan, _ = export_scan(args)
    work = Path(tempfile.mkdtemp(prefix="bench-stores-", dir=args.dir))
    rows = []
    try:
        store = work / "out.zarr"
        floor = median_time(lambda: cat(path), args.repeats)
        convert = median_time(
            lambda: to_zarr(scan, store, chunk_frames=32),
            args.repeats,
            setup=lambda: shutil.rmtree(store, ignore_errors=True),
        )
        identity = median_time(lambda: source_identity([str(path)]), args.repeats)
        rows.append(("cat FILE (floor)", floor, floor))
        rows.append(("to_zarr, uncompressed", convert, floor))
        rows.append(("source identity", identity, floor))
        rows.append(("source identity / to_zarr", identity, convert))

        frames_store = work / "frames.zarr"
        wanted = listing(plan_for(scan, chunk_frames=1))

        def write_frames():
            shutil.rmtree(frames_store, ignore_errors=True)
            to_zarr(scan, frames_store, chunk_frames=1)

        files = None

        def count_files():
            nonlocal files
            write_frames()
            files = sum(1 for p in frames_store.rglob("*") if p.is_file())

        count_files()
        rmtree = median_time(lambda: shutil.rmtree(frames_store), args.repeats, write_frames)
        listed = median_time(
            lambda: remove_listed(frames_store, wanted), args.repeats, write_frames
        )
        rows.append((f"shutil.rmtree, {files} files (floor)", rmtree, rmtree))
        rows.append((f"--overwrite removal, {files} files", listed, rmtree))

        import dask
        import dask.array as da
        import zarr

        to_zarr(scan, store, chunk_frames=32, overwrite=True)

        def plain_open():
            return da.from_zarr(zarr.open_array(str(store / "0" / "0"), mode="r"))[:, 0]

        opened = median_time(plain_open, args.repeats)
        checked = median_time(lambda: store_layer_data(store), args.repeats)
        rows.append(("zarr.open_array + da.from_zarr (floor)", opened, opened))
        rows.append(("store_layer_data, checked", checked, opened))
        array = zarr.open_array(str(store / "0" / "0"), mode="r")
        layer = store_layer_data(store)[0][0]
        middle = args.pages // 2
        direct = median_time(lambda: np.asarray(array[middle, 0]), args.repeats)
        through = median_time(lambda: np.asarray(layer[middle]), args.repeats)
        with dask.config.set({"optimization.fuse.active": False}):  # as napari slices
            unfused = median_time(lambda: np.asarray(layer[middle]), args.repeats)
        rows.append(("one frame from zarr (floor)", direct, direct))
        rows.append(("one frame through the layer", through, direct))
        rows.append(("... as napari reads it (dask fusion off)", unfused, direct))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    nbytes = path.stat().st_size
    print(
        f"\nfile: {path.name}, {args.pages} pages of {args.size}x{args.size} int16, "
        f"{nbytes / 1e9:.2f} GB; warm page cache; median of {args.repeats}"
    )
    print(f"{'case':<44}{'time':>11}{'vs floor':>10}")
    for case, seconds, reference in rows:
        print(f"{case:<44}{seconds * 1e3:9.2f}ms{seconds / reference:9.3f}x")


if __name__ == "__main__":
    main()
