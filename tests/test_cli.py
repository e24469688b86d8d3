from __future__ import annotations

import json
import subprocess
import sys

from napari_scanimage.cli import main
from napari_scanimage.testing import RoiSpec, ScanSpec


def test_info_text(write, capsys):
    rois = (RoiSpec(name="left"), RoiSpec(name="right", center_xy=(8.0, 0.0)))
    written = write(ScanSpec(version="2018b", rois=rois, channels=(1, 2), num_frames=3))
    assert main(["info", str(written.paths[0])]) == 0
    out = capsys.readouterr().out
    assert "ScanImage 2018b (TIFF format 3)" in out
    assert "frames: 3 at 30 Hz (header; 30 Hz by the pages' timestamps); channels: 1, 2" in out
    assert "fields: 2" in out
    assert "48 x 64" in out
    assert "left" in out
    assert "right" in out


def test_info_json_with_a_pattern(write, capsys):
    written = write(ScanSpec(num_frames=4, frames_per_file=2))
    pattern = str(written.paths[0].parent / "scan_*.tif")
    assert main(["info", "--json", pattern]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["num_frames"] == 4
    assert info["files"] == [str(p) for p in written.paths]
    assert info["fields"][0]["size_px"] == [48, 64]


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"nope")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"napari-scanimage: error: {bad}: not a TIFF file"


def test_sample_then_info_as_console_script(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "napari_scanimage.cli", "sample", str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    files = out.stdout.split()
    assert files
    info = subprocess.run(
        [sys.executable, "-m", "napari_scanimage.cli", "info", *files],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "multi-ROI: yes" in info.stdout
