"""The page index predicts offsets from two IFDs, checks them, and falls back safely."""

from __future__ import annotations

import os

import numpy as np
import tifffile

from napari_scanimage.format.header import ScanImageHeader
from napari_scanimage.format.page_index import PageIndex
from napari_scanimage.format.tiff import TiffFileHandle
from napari_scanimage.testing import ScanSpec


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
        ScanImageHeader.from_file(handle)
        index = PageIndex.build(handle)
    assert index.count == 2000
    assert len(calls) < 40
    assert sum(calls) < 100_000  # the header block is most of it
    assert np.all(np.diff(index.data_offsets) == index.stride)
