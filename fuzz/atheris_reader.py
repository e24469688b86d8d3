"""Coverage-guided fuzzing of the whole reader with atheris (libFuzzer).

Seeds are small valid files from the package's writer; libFuzzer mutates them.
Any exception other than ScanImageError is a bug and stops the run with the input
saved (libFuzzer's crash-* file).

Run: python fuzz/atheris_reader.py -atheris_runs=20000 -max_len=200000
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from napari_scanimage import ScanImageError, ScanImageWarning, read_scan
    from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan

WORK = Path(tempfile.mkdtemp(prefix="napari-scanimage-atheris-"))
TARGET = WORK / "input_00001.tif"


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
    }
    for name, spec in specs.items():
        folder = WORK / name
        folder.mkdir()
        (corpus / name).write_bytes(write_scan(folder, spec).paths[0].read_bytes())
    return corpus


def test_one_input(data: bytes) -> None:
    """The fuzz target: open and read everything."""
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


if __name__ == "__main__":
    corpus = seeds()
    atheris.Setup([*sys.argv, str(corpus)], test_one_input)
    atheris.Fuzz()
