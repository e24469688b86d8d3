"""Coverage-guided fuzzing of the whole reader with atheris (libFuzzer).

Seeds are small valid files from the package's writer (plain, mROI, slow stack,
and headers with channel keys deleted or edited); libFuzzer mutates them.  Each
input is opened and read whole, then opened again while cut at a point the input
chooses and refreshed once completed (the live-acquisition path).  Any exception
other than ScanImageError is a bug and stops the run with the input saved
(libFuzzer's crash-* file).

Run: python fuzz/atheris_reader.py -runs=100000 -max_len=200000
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports():
    from napari_scanimage import ScanImageError, ScanImageWarning, read_scan
    from napari_scanimage.scan.source import ScanSource
    from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

WORK = Path(tempfile.mkdtemp(prefix="napari-scanimage-atheris-"))
TARGET = WORK / "input_00001.tif"
GROWING = WORK / "growing_00001.tif"


def seeds() -> Path:
    """Write a small corpus of valid files for libFuzzer to start from."""
    corpus = WORK / "corpus"
    corpus.mkdir()
    specs = {
        "plain": ScanSpec(num_frames=2, channels=(1, 2), strips_per_page=2, description_slot=400),
        "mroi": ScanSpec(
            rois=(
                RoiSpec(pixels_xy=(8, 4)),
                RoiSpec(name="b", center_xy=(9, 0), pixels_xy=(8, 4)),
            ),
            num_frames=2,
            header_format="json",
            description_slot=400,
        ),
        "slow": ScanSpec(
            stack="slow", zs=(0.0, 2.0), channels=(1, 2), num_frames=2, description_slot=400
        ),
    }
    for name, spec in specs.items():
        folder = WORK / name
        folder.mkdir()
        raw = write_scan(folder, spec).paths[0].read_bytes()
        (corpus / name).write_bytes(raw)
        # header disagreeing with the pages: channel keys gone, channelSave edited
        (corpus / f"{name}-nochannels").write_bytes(raw.replace(b"hChannels", b"hChannelZ"))
        (corpus / f"{name}-onechannel").write_bytes(
            raw.replace(b"channelSave = [1;2]", b"channelSave = 1    ")
        )
    return corpus


def test_one_input(data: bytes) -> None:
    """The fuzz target: open and read everything, then grow a cut copy and refresh it."""
    TARGET.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScanImageWarning)
            scan = read_scan(TARGET)
            for field in range(scan.num_fields):
                scan[field]
            scan.frame_timestamps()
            scan.close()
    except ScanImageError:
        pass
    cut = int.from_bytes(data[-3:] or b"\0", "little") % (len(data) + 1)
    GROWING.write_bytes(data[:cut])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScanImageWarning)
            source = ScanSource.open([str(GROWING)])
            try:
                with GROWING.open("ab") as fh:
                    fh.write(data[cut:])
                source.refresh()
                source.acquisition_ended()
                if source.num_pages:
                    index = source.readers[0].index
                    out = np.empty((1, index.height, index.width), index.dtype)
                    source.read(np.array([source.num_pages - 1]), slice(None), slice(None), out)
            finally:
                source.close()
    except ScanImageError:
        pass


if __name__ == "__main__":
    corpus = seeds()
    atheris.Setup([*sys.argv, str(corpus)], test_one_input)
    atheris.Fuzz()
