"""The page index predicts offsets from two IFDs, checks them, and falls back safely."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import tifffile

from napari_scanimage.format.header import read_header
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.format.tiff import TiffFileHandle
from napari_scanimage.testing import RoiSpec, ScanSpec


def offsets_from_tifffile(path):
    with tifffile.TiffFile(path) as tif:
        return [page.dataoffsets[0] for page in tif.pages]


def index_of(path):
    with TiffFileHandle(path) as handle:
        return PageIndex.build(handle)


def test_uniform_file_uses_the_stride(write):
    path = write(ScanSpec(num_frames=40, channels=(1, 2))).paths[0]
    index = index_of(path)
    assert index.stride is not None
    assert index.count == 80
    assert index.data_offsets.tolist() == offsets_from_tifffile(path)


def test_irregular_file_falls_back_to_the_chain(write):
    path = write(ScanSpec(num_frames=40, irregular_page=17)).paths[0]
    index = index_of(path)
    assert index.stride is None
    assert index.data_offsets.tolist() == offsets_from_tifffile(path)


def test_multistrip_pages(write):
    path = write(ScanSpec(num_frames=5, strips_per_page=6)).paths[0]
    index = index_of(path)
    assert index.stride is not None
    assert index.data_offsets.tolist() == offsets_from_tifffile(path)


def test_descriptions_are_located(write):
    path = write(ScanSpec(num_frames=3)).paths[0]
    index = index_of(path)
    with tifffile.TiffFile(path) as tif:
        expected = [page.tags["ImageDescription"].valueoffset for page in tif.pages]
    assert index.description_offsets.tolist() == expected
    assert set(index.description_nbytes.tolist()) == {2001}  # 2000-char slot + NUL, as real files


def test_opening_reads_a_few_small_pieces(write, monkeypatch):
    """Header + a bounded number of IFDs, whatever the page count (network drives)."""
    path = write(ScanSpec(num_frames=2000)).paths[0]
    calls = []
    real_pread = os.pread

    def counting_pread(fd, size, offset):
        calls.append(size)
        return real_pread(fd, size, offset)

    monkeypatch.setattr(os, "pread", counting_pread)
    with TiffFileHandle(path) as handle:
        read_header(handle)
        index = PageIndex.build(handle)
    assert index.count == 2000
    # the head (header, static block, IFD 0), then IFD 1/3 of the way, 2/3, and the last
    assert len(calls) == 4
    assert sum(calls) <= 256 * 1024 + 3 * 8192
    assert np.all(np.diff(index.data_offsets) == index.stride)


@pytest.mark.parametrize(
    "spec",
    [
        ScanSpec(num_frames=1000, channels=(1, 2), rois=(RoiSpec(pixels_xy=(16, 16)),)),
        ScanSpec(num_frames=10_000, channels=(1, 2), rois=(RoiSpec(pixels_xy=(16, 16)),)),
        ScanSpec(num_frames=40, channels=tuple(range(1, 31)), rois=(RoiSpec(pixels_xy=(96, 96)),)),
        ScanSpec(num_frames=6, stack="fast", zs=(0.0, 1.0, 2.0), flyback_frames=2,
                 rois=(RoiSpec(pixels_xy=(512, 512)),), channels=(1, 2)),
    ],
    ids=["2k-pages", "20k-pages", "30-channels", "fast-z-512px"],
)  # fmt: skip
def test_a_cold_open_is_at_most_8_reads_at_any_length(tmp_path, monkeypatch, spec):
    """Each read is a seek on a cold disk and a round trip on remote storage."""
    from napari_scanimage import read_scan
    from napari_scanimage.testing import write_scan

    path = write_scan(tmp_path, dataclasses.replace(spec, description_slot=400)).paths[0]
    reads = []
    real_pread, real_preadv = os.pread, os.preadv
    monkeypatch.setattr(os, "pread", lambda *a: (reads.append(a[2]), real_pread(*a))[1])
    monkeypatch.setattr(os, "preadv", lambda *a: (reads.append(a[2]), real_preadv(*a))[1])
    scan = read_scan(path)
    assert scan.num_frames == spec.num_frames
    assert len(reads) <= 8, reads
