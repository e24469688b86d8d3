"""Stores reopen safely whatever was done to them (issue 22, cases 4, 5 and 6).

Old-generation scans (no pixel size) reopen; damaged or hostile metadata ends in our own
error naming the store (a notification in napari), never a hang, a huge allocation or a
non-finite contrast range.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import tracemalloc

import dask
import numpy as np
import pytest

from napari_scanimage._napari import _zarr_reader
from napari_scanimage._napari._zarr_reader import napari_get_zarr_reader, store_layer_data
from napari_scanimage.errors import ScanImageError
from napari_scanimage.export import to_zarr
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import RoiSpec, ScanSpec
from napari_scanimage.testing_legacy import LegacySpec, write_legacy_scan
from tests.conftest import STRIPS

MROI = ScanSpec(rois=STRIPS[:2], channels=(1, 2), num_frames=6)


@pytest.fixture(params=["0.4", "0.5"])
def ngff(request):
    return request.param


@pytest.fixture
def store(write, tmp_path, ngff):
    return to_zarr(read_scan(write(MROI).paths), tmp_path / "scan.zarr", ngff=ngff, chunk_frames=2)


def _meta_file(store, node, kind):
    """The JSON file holding a node's attributes ("attrs") or array metadata ("array")."""
    if (store / "zarr.json").exists():
        return store / node / "zarr.json"
    return store / node / (".zattrs" if kind == "attrs" else ".zarray")


def edit(store, node, kind, change):
    """Rewrite a node's attributes or array metadata with ``change(dict)`` (in place)."""
    path = _meta_file(store, node, kind)
    meta = json.loads(path.read_text())
    if path.name == "zarr.json" and kind == "attrs":
        change(meta["attributes"])
    else:
        change(meta)
    path.write_text(json.dumps(meta))


def image_record(attrs):
    return attrs["napari_scanimage"]


def windows(attrs):
    return attrs.get("ome", attrs)["omero"]["channels"]


def refused(store):
    """Opening raises our error, naming the store, and napari gets a notification instead."""
    with pytest.raises(ScanImageError) as caught:
        store_layer_data(store)
    assert str(caught.value).startswith(f"{store.resolve()}: ")
    return str(caught.value)


def notified(store, monkeypatch):
    shown = []
    monkeypatch.setattr(_zarr_reader, "_notify", lambda *a: shown.append(a))
    reader = napari_get_zarr_reader(str(store))
    if reader is None:
        return None
    assert reader(str(store)) == [(None,)]
    assert shown
    assert shown[0][1] == "error"
    assert "scan.zarr" in shown[0][0]
    return shown[0][0]


# -- case 4: old-generation scans (no size in µm) ----------------------------------------------


def test_a_store_of_an_old_generation_scan_reopens(tmp_path, ngff):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation="4.x", num_frames=3))
    scan = read_scan(truth.path)
    assert not scan.fields[0].pixel_size_known
    out = to_zarr(scan, tmp_path / "old.zarr", ngff=ngff)
    for meta in out.rglob("*"):
        if meta.name in (".zattrs", "zarr.json"):
            assert '"NaN"' not in meta.read_text(), meta  # unknown is null, not a string
    geometry = json.loads(_meta_file(out, "0", "attrs").read_text())
    geometry = geometry.get("attributes", geometry)["napari_scanimage"]["geometry"]
    assert geometry["pixel_size_um"] == [None, None]
    (data, kwargs, _), *_ = store_layer_data(out)
    assert kwargs["units"][-2:] == ["pixel", "pixel"]
    assert kwargs["scale"][-2:] == [1.0, 1.0]
    np.testing.assert_array_equal(np.asarray(data[1]), scan.read_field(0, [0], [1])[0, 0])


def test_stores_written_with_nan_strings_still_reopen(tmp_path, ngff):
    truth = write_legacy_scan(tmp_path, LegacySpec(generation="5.1", num_frames=3))
    out = to_zarr(read_scan(truth.path), tmp_path / "old.zarr", ngff=ngff)

    def as_before(attrs):  # what earlier versions wrote for unknown sizes and positions
        geometry = image_record(attrs)["geometry"]
        geometry["pixel_size_um"] = ["NaN", "NaN"]
        geometry["top_left_um"] = ["NaN", "NaN"]

    edit(out, "0", "attrs", as_before)
    (_, kwargs, _), *_ = store_layer_data(out)
    assert kwargs["units"][-2:] == ["pixel", "pixel"]


# -- case 5: a non-finite contrast window never reaches napari ----------------------------------


@pytest.mark.parametrize(
    "window",
    [
        {"start": float("nan"), "end": 10.0},
        {"start": 0.0, "end": float("inf")},
        {"start": "NaN", "end": "Infinity"},
        {"start": None, "end": None},
        {"start": 50.0, "end": -50.0},
        {"start": 3.0, "end": 3.0},
        {"start": -1e308, "end": 1e308},
        {"start": "low", "end": [1]},
        {"start": 0.0, "end": float("nan"), "min": float("nan"), "max": float("-inf")},
    ],
    ids=lambda w: str(list(w.values())),
)
def test_contrast_limits_are_always_finite_and_ordered(store, window):
    def damage(attrs):
        for channel in windows(attrs):
            channel["window"] = dict(window)

    edit(store, "0", "attrs", damage)
    for _, kwargs, _ in store_layer_data(store):
        low, high = kwargs["contrast_limits"]
        assert math.isfinite(low)
        assert math.isfinite(high)
        assert low < high
        assert high - low < 1e300


def test_napari_shows_a_store_with_non_finite_windows(make_napari_viewer, store):
    def damage(attrs):
        windows(attrs)[0]["window"] = {"start": float("nan"), "end": float("inf")}

    edit(store, "0", "attrs", damage)
    viewer = make_napari_viewer()
    viewer.open(str(store), plugin="napari-scanimage")
    assert len(viewer.layers) == 4
    for layer in viewer.layers:
        assert all(math.isfinite(v) for v in layer.contrast_limits)


# -- case 6: the reader validates before it allocates ------------------------------------------


def _root_record(attrs):
    return attrs["napari_scanimage"]


def _more_channels(store):
    edit(store, "", "attrs", lambda a: _root_record(a).update(channels=[1, 2, 3]))


def _reshape(store, shape, chunks, image="0"):
    def change(meta):
        if "chunk_grid" in meta:
            meta["shape"] = shape
            meta["chunk_grid"]["configuration"]["chunk_shape"] = chunks
            inner = meta["codecs"][0]["configuration"]["chunk_shape"]
            if len(inner) == len(chunks):  # the same axes: frames as they were, y and x given
                inner = [*inner[:-2], *chunks[-2:]]
            else:
                inner = [1] * (len(chunks) - 2) + chunks[-2:]
            meta["codecs"][0]["configuration"]["chunk_shape"] = inner
            meta["dimension_names"] = None
        else:
            meta["shape"], meta["chunks"] = shape, chunks

    edit(store, f"{image}/0", "array", change)


def _array_meta(store, image="0"):
    path = _meta_file(store, f"{image}/0", "array")
    meta = json.loads(path.read_text())
    if "chunk_grid" in meta:
        return meta["shape"], meta["chunk_grid"]["configuration"]["chunk_shape"]
    return meta["shape"], meta["chunks"]


def _two_d(store):
    shape, chunks = _array_meta(store)
    _reshape(store, shape[-2:], chunks[-2:])


def _three_d(store):
    shape, chunks = _array_meta(store)
    _reshape(store, [shape[0], *shape[-2:]], [chunks[0], *chunks[-2:]])


def _six_d(store):
    shape, chunks = _array_meta(store)
    _reshape(store, [1, *shape], [1, *chunks])


def _swapped(store):
    shape, chunks = _array_meta(store)
    _reshape(store, [*shape[:-2], shape[-1], shape[-2]], [*chunks[:-2], chunks[-1], chunks[-2]])


def _zero_chunks(store):
    shape, chunks = _array_meta(store)
    _reshape(store, shape, [0, *chunks[1:]])


def _more_frames(store, images=("0",), frames=10**8):
    for image in images:
        shape, chunks = _array_meta(store, image)
        _reshape(store, [frames, *shape[1:]], chunks, image)


def _escaping_image(store):
    edit(store, "", "attrs", lambda a: _root_record(a)["images"][0].update(path="../elsewhere"))


def _negative_pixels(store):
    def change(attrs):
        image_record(attrs)["geometry"]["pixel_size_um"] = [-1.0, 2.0]

    edit(store, "0", "attrs", change)


def _huge_metadata(store):
    path = _meta_file(store, "0", "attrs")
    with path.open("r+b") as f:  # a sparse 20 MB file: regular, and too big to be ours
        f.truncate(20 * 2**20)


def _deep(store):
    path = _meta_file(store, "0", "attrs")
    path.write_text("[" * 100_000 + "]" * 100_000)


def _deep_but_parsable(store):
    edit(store, "0", "attrs", lambda a: a.update(deep=json.loads("[" * 500 + "]" * 500)))


def _dev_zero(store):
    path = _meta_file(store, "0", "attrs")
    path.unlink()
    path.symlink_to("/dev/zero")


def _link_out(store):
    path = _meta_file(store, "0", "attrs")
    outside = store.parent / "outside.json"
    outside.write_text(path.read_text())
    path.unlink()
    path.symlink_to(outside)


DAMAGE = {
    "more channels recorded than stored": _more_channels,
    "2-d array": _two_d,
    "3-d array": _three_d,
    "6-d array": _six_d,
    "y and x swapped": _swapped,
    "0 frames per chunk": _zero_chunks,
    "1e8 frames declared": _more_frames,
    "image outside the store": _escaping_image,
    "negative pixel size": _negative_pixels,
    "20 MB metadata": _huge_metadata,
    "deeply nested metadata": _deep,
    "nested 500 deep": _deep_but_parsable,
    "metadata linked to /dev/zero": _dev_zero,
    "metadata linked out of the store": _link_out,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_store_is_refused_with_our_error(store, damage, monkeypatch):
    DAMAGE[damage](store)
    start = time.perf_counter()
    tracemalloc.start()
    try:
        refused(store)
        message = notified(store, monkeypatch)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert message is not None  # our store still: the reader reports, it does not decline
    assert time.perf_counter() - start < 10
    assert peak < 100e6


@pytest.mark.parametrize("root_damage", ["deep", "dev-zero", "fifo", "huge", "binary"])
def test_the_reader_hook_never_raises_on_a_damaged_root(store, root_damage):
    path = _meta_file(store, "", "attrs")
    path.unlink()
    if root_damage == "deep":
        path.write_text("{" + '"a":{' * 50_000 + "}" * 50_001)
    elif root_damage == "dev-zero":
        path.symlink_to("/dev/zero")
    elif root_damage == "fifo":
        os.mkfifo(path)
    elif root_damage == "huge":
        with path.open("wb") as f:
            f.truncate(40 * 2**20)
    else:
        path.write_bytes(bytes(range(256)) * 10)
    assert _in_time(lambda: napari_get_zarr_reader(str(store))) is None


def test_a_fifo_in_a_store_never_hangs_the_reader(store, monkeypatch):
    path = _meta_file(store, "0", "attrs")
    path.unlink()
    os.mkfifo(path)
    message = _in_time(lambda: notified(store, monkeypatch))
    assert message is not None
    assert "not a regular file" in message


def _declare_frames(store, frames):
    """``frames`` in both arrays and the record alike: consistent, so not refused for that."""
    _more_frames(store, images=("0", "1"), frames=frames)

    def declare(attrs):
        record = _root_record(attrs)
        record["num_frames"] = frames
        record["settings"]["num_frames"] = frames

    edit(store, "", "attrs", declare)


def test_a_frame_count_declared_everywhere_builds_no_huge_graph(store):
    """1e8 frames in the arrays and the record alike: read lazily and cheaply, as napari does
    (dask's fusion off: a frame read is its whole block)."""
    _declare_frames(store, 10**8)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        layers = store_layer_data(store)
        with dask.config.set({"optimization.fuse.active": False}):
            frame = np.asarray(layers[0][0][5])
            last = np.asarray(layers[0][0][10**8 - 1])
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 10
    assert peak < 100e6, f"{peak / 1e6:.0f} MB"
    assert layers[0][0].shape[0] == 10**8
    assert len(layers[0][0].chunks[0]) <= 50_000
    assert frame.any()
    assert not last.any()  # never written: the fill value


def test_more_frames_than_a_layer_can_show_are_refused(write, tmp_path, ngff):
    """1e8 frames of 256 x 256 declared: blocks of 2000 frames (262 MB each) are refused."""
    spec = ScanSpec(rois=(RoiSpec(pixels_xy=(256, 256)),), num_frames=2)
    store = to_zarr(read_scan(write(spec).paths), tmp_path / "big.zarr", ngff=ngff)
    _more_frames(store, images=("0",))
    edit(store, "", "attrs", lambda a: _root_record(a).update(num_frames=10**8))
    edit(store, "", "attrs", lambda a: _root_record(a)["settings"].update(num_frames=10**8))
    with pytest.raises(ScanImageError, match="more than a layer can show"):
        store_layer_data(store)


def _in_time(call, seconds=20.0):
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it does not return."""
    result = {}

    def run():
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hangs"
    if "error" in result:
        raise result["error"]
    return result.get("value")
