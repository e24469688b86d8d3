"""The first hour: every command reads a path the same way, numbers fields from 1,
refuses bad input in one line, and says when there is nothing to do."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from napari_scanimage import __version__, cli
from napari_scanimage.cli import main
from napari_scanimage.testing import ScanSpec


@pytest.fixture
def split(write):
    """One acquisition in 4 files of 2 frames."""
    return write(ScanSpec(num_frames=8, frames_per_file=2, description_slot=400))


def test_one_file_of_a_split_acquisition_means_the_whole_acquisition(split, capsys):
    second = str(split.paths[1])
    assert main(["info", "--json", second]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["num_frames"] == 8
    assert json.loads(out)["files"] == [str(p) for p in split.paths]
    assert err.strip() == (
        "napari-scanimage: scan_00001: reading all 4 files of the acquisition "
        "(--only: just those given)"
    )
    assert main(["info", "--json", "--only", second]) == 0
    out, err = capsys.readouterr()
    assert (json.loads(out)["num_frames"], err) == (2, "")


def test_convert_and_summary_follow_the_same_rule(split, tmp_path, capsys):
    assert main(["convert", str(split.paths[2]), "--out", str(tmp_path / "s.zarr"), "-q"]) == 0
    import zarr

    assert zarr.open_array(str(tmp_path / "s.zarr" / "0" / "0"), mode="r").shape[0] == 8
    out = tmp_path / "qc"
    assert main(["summary", str(split.paths[0]), "--out", str(out), "--kind", "max", "-q"]) == 0
    image = tifffile.imread(out / "scan_00001_field1_ch1_max.tif")
    np.testing.assert_array_equal(image, split.fields[0].data[:, 0].max(axis=0))
    assert main(["convert", str(split.paths[3]), "--only", "--out", str(tmp_path / "o.zarr")]) == 0
    assert zarr.open_array(str(tmp_path / "o.zarr" / "0" / "0"), mode="r").shape[0] == 2


def test_info_numbers_fields_from_one_and_says_so(write, capsys):
    from tests.conftest import STRIPS

    written = write(ScanSpec(rois=STRIPS, num_frames=2))
    assert main(["info", str(written.paths[0])]) == 0
    out = capsys.readouterr().out
    assert "fields: 3 (numbered from 1 as in napari; the Python API's index is one less)" in out
    numbers = [line.split()[0] for line in out.splitlines() if line.startswith("    ")]
    assert numbers == ["1", "2", "3"]
    assert main(["info", "--json", str(written.paths[0])]) == 0
    fields = json.loads(capsys.readouterr().out)["fields"]
    assert [(f["field"], f["index"]) for f in fields] == [(1, 0), (2, 1), (3, 2)]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"napari-scanimage {__version__}"


@pytest.mark.parametrize("content", [b"just text\n", b"", "plain"])
def test_view_refuses_bad_input_before_starting_napari(tmp_path, capsys, monkeypatch, content):
    path = tmp_path / "bad.tif"
    if content == "plain":
        tifffile.imwrite(path, np.zeros((2, 4, 4), np.uint16))
    else:
        path.write_bytes(content)
    import napari_scanimage._napari._launch as launch

    monkeypatch.setattr(launch, "view", lambda *a, **k: pytest.fail("napari was started"))
    assert main(["view", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"napari-scanimage: error: {path}: not written by ScanImage "
        "(open it with napari itself: `napari FILE`)"
    )


def test_view_of_a_missing_store_says_no_such_store(tmp_path, capsys):
    assert main(["view", str(tmp_path / "missing.zarr")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing.zarr: no such store")


def test_summary_with_nothing_to_do_fails(tmp_path, capsys):
    text = tmp_path / "notes.tif"
    text.write_bytes(b"not a tiff")
    assert main(["summary", str(text), "--out", str(tmp_path / "qc")]) == 2
    err = capsys.readouterr().err
    assert "napari-scanimage: warning: not ScanImage files, left out:" in err
    assert "napari-scanimage: error: no ScanImage recording among the files given" in err
    assert "Traceback" not in err
    assert "cli.py" not in err


def test_convert_out_dir_with_nothing_to_convert_fails(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    tifffile.imwrite(folder / "plain.tif", np.zeros((2, 4, 4), np.uint16))
    assert main(["convert", str(folder), "--out-dir", str(tmp_path / "conv") + "/"]) == 2
    out, err = capsys.readouterr()
    assert "napari-scanimage: error: no ScanImage recording among" in err
    assert "//" not in out


def test_a_base_install_says_which_extra_view_needs(monkeypatch, capsys, split):
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None)
    assert main(["view", str(split.paths[0])]) == 2
    assert capsys.readouterr().err.strip() == (
        "napari-scanimage: error: `napari-scanimage view` needs napari, which is not "
        'installed; install it with `pip install "napari-scanimage[napari]"`'
    )
    assert main(["set-default-reader"]) == 2
    assert "needs napari" in capsys.readouterr().err


def test_a_finished_batch_counts_already_complete_apart(split, tmp_path, capsys):
    folder = split.paths[0].parent
    argv = ["convert", str(folder), "--out-dir", str(tmp_path / "conv"), "-q"]
    assert main(argv) == 0
    assert "1 converted, 0 already complete" in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 converted, 1 already complete, 0 failed, 0 skipped" in out
    assert f"summary: {tmp_path / 'conv' / 'summary_2.csv'}" in out  # the first kept
