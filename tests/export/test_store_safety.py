"""Resuming and replacing stores: only the same recording resumes, ``--overwrite`` deletes
only what a conversion wrote (issue 22, cases 2 and 3)."""

from __future__ import annotations

import os
import shutil

import dask
import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.cli import main
from napari_scanimage.export import ExportError, to_zarr
from napari_scanimage.export.describe import KEY
from napari_scanimage.testing import ScanSpec

SPEC = ScanSpec(channels=(1, 2), num_frames=12)


class StopConversionError(Exception):
    """Raised by a progress callback, as a Ctrl-C between chunks would stop a conversion."""


def stop_after(chunks):
    def progress(done, _total):
        if done >= chunks:
            raise StopConversionError

    return progress


def record(store):
    return zarr.open_group(str(store), mode="r").attrs[KEY]


def files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def interrupted(write, tmp_path):
    """A conversion of recording A stopped after 2 of its 6 chunks, and recording B."""
    a = write(SPEC)
    b = write(ScanSpec(channels=(1, 2), num_frames=12, seed=9))
    assert a.paths[0].stat().st_size == b.paths[0].stat().st_size
    store = tmp_path / "a.zarr"
    with dask.config.set(scheduler="synchronous"), pytest.raises(StopConversionError):
        to_zarr(read_scan(a.paths), store, chunk_frames=4, progress=stop_after(2))
    assert record(store)["complete"] is False
    return a, b, store


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["copied", "mtime-kept"])
def test_resume_refuses_another_recording_of_the_same_size(interrupted, keep_mtime):
    a, b, store = interrupted
    source = a.paths[0]
    stat = source.stat()
    shutil.copyfile(b.paths[0], source)  # a different recording under A's name
    if keep_mtime:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ExportError) as caught:
        to_zarr(read_scan(a.paths), store, chunk_frames=4)
    message = str(caught.value)
    assert message.startswith(f"{source}: ")
    assert "changed since" in message
    assert "--overwrite" in message
    assert record(store)["complete"] is False
    # starting over is allowed, and gives the new recording whole
    to_zarr(read_scan(a.paths), store, chunk_frames=4, overwrite=True)
    np.testing.assert_array_equal(zarr.open_array(str(store / "0" / "0"))[...], b.fields[0].data)
    assert record(store)["complete"] is True


def test_resume_refuses_a_touched_file_from_the_command_line(interrupted, capsys):
    a, _, store = interrupted
    os.utime(a.paths[0], ns=(0, a.paths[0].stat().st_mtime_ns + 10**9))  # same bytes, touched
    argv = ["convert", str(a.paths[0]), "--out", str(store), "--chunk-frames", "4"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"napari-scanimage: error: {a.paths[0]}: ")
    assert "modification time" in err
    assert "\n" not in err
    assert record(store)["complete"] is False


def test_resume_refuses_every_changed_file_of_a_split_recording(write, tmp_path):
    a = write(ScanSpec(channels=(1, 2), num_frames=12, frames_per_file=4))
    store = tmp_path / "a.zarr"
    with dask.config.set(scheduler="synchronous"), pytest.raises(StopConversionError):
        to_zarr(read_scan(a.paths), store, chunk_frames=4, progress=stop_after(2))
    last = a.paths[-1]
    stat = last.stat()
    with last.open("r+b") as f:  # pixels rewritten in place, deep in the last file
        f.seek(stat.st_size - 100)
        f.write(bytes(range(100)))
    os.utime(last, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ExportError, match=rf"^{last}: .*content"):
        to_zarr(read_scan(a.paths), store, chunk_frames=4)


def test_an_unchanged_recording_still_resumes(interrupted):
    a, _, store = interrupted
    to_zarr(read_scan(a.paths), store, chunk_frames=4)
    assert record(store)["complete"] is True
    np.testing.assert_array_equal(zarr.open_array(str(store / "0" / "0"))[...], a.fields[0].data)


def test_the_source_is_identified_by_content(write, tmp_path):
    a = write(ScanSpec(channels=(1, 2), num_frames=12, frames_per_file=4))
    store = to_zarr(read_scan(a.paths), tmp_path / "a.zarr", ngff="0.5")
    sources = record(store)["sources"]
    assert [s["path"] for s in sources] == [str(p) for p in a.paths]
    for source, path in zip(sources, a.paths, strict=True):
        assert source["bytes"] == path.stat().st_size
        assert source["mtime_ns"] == path.stat().st_mtime_ns
        assert len(source["sample_digest"]) == 32  # hex of 16 bytes


# -- --overwrite removes what the conversion wrote, and nothing else ------------------------


@pytest.fixture(params=["0.4", "0.5"])
def store(request, write, tmp_path):
    written = write(SPEC)
    out = to_zarr(
        read_scan(written.paths), tmp_path / "o.zarr", chunk_frames=4, ngff=request.param
    )
    return written, out, request.param


def test_overwrite_refuses_a_store_holding_other_files(store):
    written, out, ngff = store
    (out / "notes.txt").write_text("my notes")
    shutil.copyfile(written.paths[0], out / "0" / "s_00002.tif")
    before = files_in(out)
    with pytest.raises(ExportError) as caught:
        to_zarr(read_scan(written.paths), out, ngff=ngff, overwrite=True)
    message = str(caught.value)
    assert message.startswith(f"refusing to replace {out}: ")
    assert "notes.txt" in message or "s_00002.tif" in message
    assert files_in(out) == before  # nothing removed
    assert record(out)["complete"] is True


def test_an_input_inside_the_output_is_refused_before_anything_is_touched(store, capsys):
    written, out, _ = store
    inside = out / "s_00002.tif"
    shutil.copyfile(written.paths[0], inside)
    before = files_in(out)
    assert main(["convert", str(inside), "--out", str(out), "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"napari-scanimage: error: {inside}: ")
    assert "inside the output" in err
    assert files_in(out) == before
    with pytest.raises(ExportError, match="inside the output"):
        to_zarr(read_scan(inside), out)  # without --overwrite too
    assert files_in(out) == before


def test_overwrite_replaces_what_the_conversion_wrote(store):
    written, out, ngff = store
    other = 5 if ngff == "0.4" else 2
    to_zarr(read_scan(written.paths), out, chunk_frames=other, ngff=ngff, overwrite=True)
    assert zarr.open_array(str(out / "0" / "0")).chunks[0] == other
    assert record(out)["complete"] is True


def test_overwrite_removes_an_interrupted_conversion_with_zarr_leftovers(write, tmp_path):
    written = write(SPEC)
    out = tmp_path / "o.zarr"
    with dask.config.set(scheduler="synchronous"), pytest.raises(StopConversionError):
        to_zarr(read_scan(written.paths), out, chunk_frames=4, progress=stop_after(3))
    # a write killed half way leaves zarr's temporary file next to the chunk
    chunk = next(p for p in (out / "0" / "0").rglob("*") if p.is_file() and p.name[0] != ".")
    chunk.with_name(f"{chunk.name}.{'ab' * 16}.partial").write_bytes(b"half")
    to_zarr(read_scan(written.paths), out, chunk_frames=3, overwrite=True)
    assert record(out)["complete"] is True
    assert not list(out.rglob("*.partial"))


def test_overwrite_of_a_store_without_a_listing_uses_its_images(store):
    written, out, ngff = store
    group = zarr.open_group(str(out), mode="r+")
    old = dict(group.attrs[KEY])
    old.pop("written")  # as stores of earlier versions were
    group.attrs[KEY] = old
    to_zarr(read_scan(written.paths), out, ngff=ngff, chunk_frames=3, overwrite=True)
    assert record(out)["complete"] is True


def test_overwrite_never_follows_a_symbolic_link(store, tmp_path):
    written, out, ngff = store
    link = tmp_path / "link.zarr"
    link.symlink_to(out, target_is_directory=True)
    before = files_in(out)
    with pytest.raises(ExportError, match="symbolic link"):
        to_zarr(read_scan(written.paths), link, ngff=ngff, overwrite=True)
    assert files_in(out) == before
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep")
    (out / "0" / "data").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ExportError, match=r"0/data"):
        to_zarr(read_scan(written.paths), out, ngff=ngff, overwrite=True)
    assert (elsewhere / "precious.txt").read_text() == "keep"
    assert record(out)["complete"] is True


def test_overwrite_refuses_a_fifo_inside_the_store(store):
    written, out, ngff = store
    os.mkfifo(out / "pipe")
    with pytest.raises(ExportError, match="pipe"):
        to_zarr(read_scan(written.paths), out, ngff=ngff, overwrite=True)
    assert record(out)["complete"] is True
