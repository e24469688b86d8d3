"""Writing an NWB file: complete or absent, never half; inputs untouched; constant memory."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.errors import ScanImageError
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb import plan as plan_module
from napari_scanimage.export.nwb import written_by_us
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.export.nwb_support import META, read_back

SMALL = RoiSpec(name="cells", size_xy=(4.0, 4.0), pixels_xy=(16, 12))


@pytest.fixture
def scan(write):
    return read_scan(write(ScanSpec(rois=(SMALL,), channels=(1, 2), num_frames=16)).paths)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_an_existing_file_is_refused_unless_overwrite(scan, tmp_path):
    target = tmp_path / "scan.nwb"
    target.write_bytes(b"someone else's file")
    with pytest.raises(ExportError, match=r"scan.nwb: exists; use overwrite \(--overwrite\)"):
        scan.to_nwb(target)
    assert target.read_bytes() == b"someone else's file"
    scan.to_nwb(target, META, overwrite=True)
    assert written_by_us(target)
    assert leftovers(tmp_path) == ["scan.nwb"]


def test_paths_that_cannot_be_written_are_errors(scan, tmp_path):
    with pytest.raises(ExportError, match=r"the folder .*nowhere does not exist"):
        scan.to_nwb(tmp_path / "nowhere" / "scan.nwb")
    (tmp_path / "dir.nwb").mkdir()
    with pytest.raises(ExportError, match=r"dir.nwb: is a folder"):
        scan.to_nwb(tmp_path / "dir.nwb")
    with pytest.raises(ExportError, match=r"cannot write in /proc"):
        scan.to_nwb("/proc/napari-scanimage-test.nwb")


def test_an_interrupted_write_leaves_nothing(scan, tmp_path):
    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scan.to_nwb(tmp_path / "scan.nwb", META, progress=interrupt)
    assert leftovers(tmp_path) == []


def test_a_read_error_midway_leaves_nothing(scan, tmp_path, monkeypatch):
    calls = []
    real = scan.read_field

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ScanImageError("scan_00001.tif: the file shrank while it was read")
        return real(*args, **kwargs)

    monkeypatch.setattr(scan, "read_field", failing)
    with pytest.raises(ScanImageError, match="the file shrank"):
        scan.to_nwb(tmp_path / "scan.nwb", META)
    assert leftovers(tmp_path) == []


def test_a_killed_write_never_leaves_a_file_that_looks_complete(write, tmp_path):
    written = write(ScanSpec(rois=(SMALL,), channels=(1, 2), num_frames=16))
    target = tmp_path / "scan.nwb"
    script = textwrap.dedent(f"""
        import os
        from napari_scanimage import read_scan
        scan = read_scan({[str(p) for p in written.paths]!r})
        scan.to_nwb({str(target)!r}, progress=lambda done, total: done == 1 and os._exit(9))
    """)
    killed = subprocess.run([sys.executable, "-c", script], check=False)
    assert killed.returncode == 9
    names = leftovers(tmp_path)
    assert "scan.nwb" not in names
    assert len(names) == 1
    assert names[0].startswith(".scan.nwb.")
    assert names[0].endswith(".partial")
    # the next run writes the file; the dead run's partial file is not taken for it
    read_scan(written.paths).to_nwb(target, META)
    assert written_by_us(target)


def test_the_input_files_are_untouched(write, tmp_path):
    written = write(ScanSpec(rois=(SMALL,), channels=(1, 2), num_frames=16, frames_per_file=5))

    def fingerprint():
        return [
            (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in written.paths
        ]

    before = fingerprint()
    read_scan(written.paths).to_nwb(tmp_path / "scan.nwb", META)
    assert fingerprint() == before


def peak_of_write(write, tmp_path, frames):
    written = write(ScanSpec(rois=(RoiSpec(pixels_xy=(128, 128)),), num_frames=frames))
    scan = read_scan(written.paths)
    tracemalloc.start()
    try:
        scan.to_nwb(tmp_path / f"m{frames}.nwb", compression=None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, frames * 128 * 128 * 2, scan


def test_memory_does_not_grow_with_the_recording(write, tmp_path, monkeypatch):
    # buffers of 8 frames (256 kB): the recordings below are 25 and 100 buffers long
    monkeypatch.setattr(plan_module, "BUFFER_BYTES", 256 * 1024)
    monkeypatch.setattr(plan_module, "CHUNK_BYTES", 64 * 1024)
    peak_of_write(write, tmp_path, 16)  # first writes pay for pynwb's one-off set-up
    short, short_bytes, _ = peak_of_write(write, tmp_path, 200)
    long, long_bytes, scan = peak_of_write(write, tmp_path, 800)
    assert long_bytes == 4 * short_bytes == 4 * 6_553_600
    # one buffer, whatever the length: 4x the frames add (almost) nothing, while
    # holding the data would add 19.7 MB (tracemalloc also counts other threads'
    # allocations, e.g. an event loop a previous test left running: a few 100 kB)
    assert long - short < (long_bytes - short_bytes) / 16
    assert long < long_bytes / 8
    io, nwbfile = read_back(tmp_path / "m800.nwb")
    with io:
        data = nwbfile.acquisition["TwoPhotonSeriesField1Ch1"].data
        assert data.chunks == (2, 128, 128)
        np.testing.assert_array_equal(data[790:], scan.read_field(0, frames=range(790, 800))[:, 0])


def test_without_the_nwb_extra_one_error_says_how_to_install_it(scan, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)  # as if pynwb were not installed
    with pytest.raises(ExportError, match=r"pip install 'napari-scanimage\[nwb\]'"):
        scan.to_nwb(tmp_path / "scan.nwb")
    assert leftovers(tmp_path) == []
