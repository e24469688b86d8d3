"""``convert ... --out FILE.nwb``, ``convert --out-dir DIR --format nwb`` and ``info FILE.nwb``."""

from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest
import yaml

from napari_scanimage import read_scan
from napari_scanimage.cli import main
from napari_scanimage.export.nwb import convert_nwb_batch, written_by_us
from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan
from tests.conftest import STRIPS
from tests.export.nwb_support import META, assert_dandi_ready, read_back

SMALL = RoiSpec(name="cells", size_xy=(4.0, 4.0), pixels_xy=(16, 12))


@pytest.fixture
def meta(tmp_path):
    path = tmp_path / "meta.yaml"
    path.write_text(yaml.safe_dump(META))
    return path


@pytest.fixture
def mroi(write):
    return write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=32))


def test_convert_to_nwb_by_suffix_then_info_lists_the_series(mroi, meta, tmp_path, capsys):
    out = tmp_path / "scan.nwb"
    paths = [str(p) for p in mroi.paths]
    assert main(["convert", *paths, "--out", str(out), "--metadata", str(meta)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert_dandi_ready(out)
    with h5py.File(out, "r") as f:
        assert f["acquisition/TwoPhotonSeriesField1Ch1/data"].compression == "gzip"
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "6 TwoPhotonSeries (suite2p: nwb_series = NAME" in text
    # each series with its shape, dtype, rate and where its field lies
    assert (
        "TwoPhotonSeriesField2Ch1  32 x 32 x 24 int16, 30 Hz  top-left x 0, y -60, z 0 µm" in text
    )
    assert "TwoPhotonSeriesField3Ch2  32 x 16 x 16 int16, 30 Hz  top-left x 157.5" in text
    assert "written by ScanImage 2021.0, napari-scanimage" in text
    assert main(["info", str(out), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)[0]["series"]
    assert [s["name"] for s in listed][:2] == [
        "TwoPhotonSeriesField1Ch1",
        "TwoPhotonSeriesField1Ch2",
    ]
    scan = read_scan(paths)
    for s, f in zip(listed[::2], scan.fields, strict=True):
        assert s["origin"] == pytest.approx([f.top_left_um[1], f.top_left_um[0], f.depth])
        assert s["shape"] == [32, f.height, f.width]


def test_info_on_a_missing_or_foreign_file_is_one_line(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.nwb")]) == 2
    assert (
        capsys.readouterr().err
        == f"napari-scanimage: error: {tmp_path}/missing.nwb: no such file\n"
    )
    (tmp_path / "fake.nwb").write_bytes(b"not HDF5")
    assert main(["info", str(tmp_path / "fake.nwb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"napari-scanimage: error: {tmp_path}/fake.nwb: cannot open as an NWB")
    assert err.count("\n") == 1


def test_convert_reads_with_the_options_given_and_no_compression(mroi, tmp_path, capsys):
    out = tmp_path / "joined.nwb"
    paths = [str(p) for p in mroi.paths]
    argv = ["convert", *paths, "-o", str(out), "--join", "--trim", "1", "1", "0", "0"]
    assert main([*argv, "--compression", "none"]) == 0
    scan = read_scan(paths, join_contiguous=True, trim=(1, 1, 0, 0))
    io, nwbfile = read_back(out)
    with io:
        assert sorted(nwbfile.acquisition) == [
            f"TwoPhotonSeriesField{n}Ch{c}" for n in (1, 2) for c in (1, 2)
        ]
        data = nwbfile.acquisition["TwoPhotonSeriesField1Ch2"].data
        assert data.compression is None
        np.testing.assert_array_equal(data[:], scan.read_field(0, channels=[1])[:, 0])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/exists.nwb"], "exists.nwb: exists; use overwrite (--overwrite)"),
        (["--out", "/proc/x.nwb"], "/proc/x.nwb: cannot write in /proc"),
        (["--out", "{tmp}/no/such/dir/x.nwb"], "the folder {tmp}/no/such/dir does not exist"),
        (["--out", "{tmp}/x.nwb", "--metadata", "{tmp}/bad.yaml"], "bad.yaml: invalid YAML"),
        (["--out", "{tmp}/x.nwb", "--metadata", "{tmp}/typo.yaml"],
         "typo.yaml: unknown key Subject.speces"),
        (["--out", "{tmp}/x.nwb", "--compression", "zstd"], "--compression zstd is for OME-Zarr"),
        (["--out", "{tmp}/x.nwb", "--chunk-frames", "8"], "--chunk-frames is for OME-Zarr"),
        (["--out", "{tmp}/x.zarr", "--metadata", "{tmp}/typo.yaml"], "--metadata is for NWB"),
        (["--out", "{tmp}/x.zarr", "--format", "nwb"], "--format nwb writes a .nwb file"),
        (["--out", "{tmp}/x.zarr", "--compression", "gzip"], "--compression gzip is for NWB"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_error(write, tmp_path, capsys, extra, message):
    written = write(ScanSpec(rois=(SMALL,), num_frames=16))
    (tmp_path / "exists.nwb").write_bytes(b"keep me")
    (tmp_path / "bad.yaml").write_text("Subject: {subject_id: [m1\n")
    (tmp_path / "typo.yaml").write_text("Subject:\n  speces: Mus musculus\n")
    argv = [a.format(tmp=tmp_path) for a in extra]
    assert main(["convert", *map(str, written.paths), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("napari-scanimage: error: ")
    assert message.format(tmp=tmp_path) in err
    assert err.count("\n") == 1
    assert (tmp_path / "exists.nwb").read_bytes() == b"keep me"
    assert not (tmp_path / "x.nwb").exists()


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    (root / "day1").mkdir(parents=True)
    (root / "day2").mkdir()
    split = write_scan(
        root / "day1", ScanSpec(rois=(SMALL,), num_frames=20, frames_per_file=8, channels=(1, 2))
    )
    single = write_scan(root / "day2", ScanSpec(rois=STRIPS, num_frames=32), stem="spot")
    (root / "day2" / "notes.tif").write_bytes(b"II*\x00" + bytes(100))
    return root, {"scan_00001": split, "spot_00001": single}


def rows_of(path):
    with path.open(newline="") as f:
        return {row["acquisition"]: row for row in csv.DictReader(f)}


def assert_file_holds(path, written):
    io, nwbfile = read_back(path)
    with io:
        scan_channels = written.spec.channels
        for i, truth in enumerate(written.fields):
            for c, number in enumerate(scan_channels):
                data = nwbfile.acquisition[f"TwoPhotonSeriesField{i + 1}Ch{number}"].data[:]
                np.testing.assert_array_equal(data, truth.data[:, c])


def test_batch_to_nwb_with_summary_and_resume(archive, meta, tmp_path, capsys):
    root, written = archive
    out = tmp_path / "out"
    argv = [
        "convert",
        str(root),
        "--out-dir",
        str(out),
        "--format",
        "nwb",
        "--metadata",
        str(meta),
    ]
    assert main(argv) == 0
    assert "2 converted, 0 already complete, 0 failed, 1 skipped" in capsys.readouterr().out
    rows = rows_of(out / "summary.csv")
    assert {k: r["status"] for k, r in rows.items()} == {
        "scan_00001": "converted",
        "spot_00001": "converted",
        "notes": "skipped",
    }
    assert rows["scan_00001"]["store"] == str(out / "scan_00001.nwb")
    assert rows["scan_00001"]["files"] == "3"
    for stem, scan in written.items():
        assert_file_holds(out / f"{stem}.nwb", scan)
        assert_dandi_ready(out / f"{stem}.nwb")
    # again: complete files are skipped, untouched
    stamp = (out / "spot_00001.nwb").stat().st_mtime_ns
    assert main(argv) == 0
    # the first table is kept (no --overwrite): this run's goes to the next free name
    again = rows_of(out / "summary_2.csv")
    assert {r["status"] for r in again.values()} == {"complete", "skipped"}
    assert (out / "spot_00001.nwb").stat().st_mtime_ns == stamp
    # --overwrite writes them anew
    assert main([*argv, "--overwrite"]) == 0
    assert rows_of(out / "summary.csv")["spot_00001"]["status"] == "converted"
    assert (out / "spot_00001.nwb").stat().st_mtime_ns != stamp


def test_a_foreign_file_in_the_way_fails_only_its_acquisition(archive, tmp_path):
    root, written = archive
    out = tmp_path / "out"
    out.mkdir()
    (out / "spot_00001.nwb").write_bytes(b"not ours")
    calls = []
    results = convert_nwb_batch([root], out, progress=lambda *a: calls.append(a))
    status = {r.acquisition: (r.status, r.error) for r in results}
    assert status["scan_00001"] == ("converted", "")
    assert status["spot_00001"][0] == "failed"
    assert "spot_00001.nwb: exists; use overwrite" in status["spot_00001"][1]
    assert (out / "spot_00001.nwb").read_bytes() == b"not ours"
    assert not written_by_us(out / "spot_00001.nwb")
    assert calls[0] == (0, 2 + 3)  # buffers: 1 field x 2 channels, 3 fields x 1 channel
    assert calls[-1] == (5, 5)
    assert_file_holds(out / "scan_00001.nwb", written["scan_00001"])


def test_batch_runs_acquisitions_as_tasks_on_a_cluster(archive, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    root, written = archive
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        argv = ["convert", str(root), "--out-dir", str(out), "--format", "nwb"]
        assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
    assert "2 converted, 0 already complete, 0 failed, 1 skipped" in capsys.readouterr().out
    for stem, scan in written.items():
        assert_file_holds(out / f"{stem}.nwb", scan)


def test_a_batch_never_keeps_another_recordings_file(tmp_path, capsys):
    """Same stem, other recording, same --out-dir: refused, not skipped (found in review)."""
    pynwb = pytest.importorskip("pynwb")
    from napari_scanimage.testing import ScanSpec, write_scan

    for day, frames in (("day1", 4), ("day2", 6)):
        (tmp_path / day).mkdir()
        write_scan(tmp_path / day, ScanSpec(num_frames=frames, seed=frames))
    out = tmp_path / "nwb"
    argv = ["convert", "--out-dir", str(out), "--format", "nwb", "-q"]
    assert main([*argv, str(tmp_path / "day1")]) == 0
    assert main([*argv, str(tmp_path / "day1")]) == 0  # the same recording: kept
    assert "1 already complete" in capsys.readouterr().out
    assert main([*argv, str(tmp_path / "day2")]) == 1
    err = capsys.readouterr().err
    assert "scan_00001.nwb" in err
    assert "changed since the conversion" in err or "other settings" in err
    with pynwb.NWBHDF5IO(str(out / "scan_00001.nwb"), "r") as io:
        assert io.read().acquisition["TwoPhotonSeriesField1Ch1"].data.shape[0] == 4


def test_the_api_batch_summary_follows_the_zarr_batch_rules(archive, tmp_path):
    from napari_scanimage.export import ExportError

    root, _ = archive
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="inside the output folder"):
        convert_nwb_batch([root], out, summary="../victim.csv")
    assert not (tmp_path / "victim.csv").exists()
    assert not out.exists()  # refused before anything was converted
    (out).mkdir()
    (out / "summary.csv").write_text("mine")
    convert_nwb_batch([root], out)
    assert (out / "summary.csv").read_text() == "mine"  # kept: the next free name is used
    assert rows_of(out / "summary_2.csv")["scan_00001"]["status"] == "converted"
