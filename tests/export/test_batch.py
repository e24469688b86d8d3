"""Batch conversion: folders and patterns in, one store per acquisition, a summary, on dask."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dask
import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.cli import main
from napari_scanimage.export import chunks as chunk_module
from napari_scanimage.export.acquisitions import find_acquisitions
from napari_scanimage.export.batch import convert_batch
from napari_scanimage.testing import ScanSpec, write_scan
from tests.conftest import REAL_DATA, requires_real_data
from tests.export.test_zarr import Counting


@pytest.fixture
def archive(tmp_path):
    """A folder tree: a split acquisition, a nested single file, a foreign TIFF, and the same
    stem in two folders."""
    root = tmp_path / "archive"
    (root / "day1").mkdir(parents=True)
    (root / "day2" / "deep").mkdir(parents=True)
    split = write_scan(root / "day1", ScanSpec(num_frames=6, frames_per_file=2, channels=(1, 2)))
    single = write_scan(root / "day2" / "deep", ScanSpec(num_frames=4), stem="spot")
    again = write_scan(root / "day2", ScanSpec(num_frames=3, seed=5))  # scan_00001 again
    (root / "day2" / "notes.tif").write_bytes(b"II*\x00" + bytes(100))
    return root, {"scan_00001": split, "spot_00001": single, "scan_00001_2": again}


def rows_of(path):
    with path.open(newline="") as f:
        return {row["acquisition"]: row for row in csv.DictReader(f)}


def assert_store_holds(store, written):
    for i, truth in enumerate(written.fields):
        array = zarr.open_array(str(store / str(i) / "0"), mode="r")
        np.testing.assert_array_equal(array[...], truth.data)


def test_acquisitions_are_found_and_named_by_stem(archive, tmp_path):
    root, written = archive
    acquisitions, skipped = find_acquisitions([root], tmp_path / "out")
    assert [(a.stem, len(a.files)) for a in acquisitions] == [
        ("scan_00001", 3),  # day1/
        ("spot_00001", 1),  # day2/deep/
        ("scan_00001_2", 1),  # day2/: the same stem again
    ]
    assert acquisitions[0].files == tuple(str(p) for p in written["scan_00001"].paths)
    assert acquisitions[1].store == tmp_path / "out" / "spot_00001.zarr"
    assert [s.rsplit("/", 1)[-1] for s in skipped] == ["notes.tif"]
    # a folder and a recursive pattern
    found, _ = find_acquisitions([root / "day1", str(root / "**" / "spot_*.tif")], tmp_path)
    assert [a.stem for a in found] == ["scan_00001", "spot_00001"]


def test_batch_converts_everything_with_one_progress_count(archive, tmp_path):
    root, written = archive
    calls = []
    results = convert_batch([root], tmp_path / "out", progress=lambda *a: calls.append(a))
    assert [(r.acquisition, r.status) for r in results] == [
        ("scan_00001", "converted"),
        ("spot_00001", "converted"),
        ("scan_00001_2", "converted"),
        ("notes", "skipped"),
    ]
    for stem, scan in written.items():
        assert_store_holds(tmp_path / "out" / f"{stem}.zarr", scan)
    total = 2 + 1 + 1  # chunks: 2 channels, then 1 and 1
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    rows = rows_of(tmp_path / "out" / "summary.csv")
    assert list(rows["scan_00001"]) == [
        "acquisition", "store", "files", "frames", "bytes", "seconds", "status", "error",
        "warnings",
    ]  # fmt: skip
    assert (rows["scan_00001"]["files"], rows["scan_00001"]["frames"]) == ("3", "6")
    assert int(rows["scan_00001"]["bytes"]) == sum(
        p.stat().st_size for p in written["scan_00001"].paths
    )
    assert float(rows["spot_00001"]["seconds"]) >= 0
    assert rows["notes"]["status"] == "skipped"
    # a second run finds every store complete and writes nothing
    again = convert_batch([root], tmp_path / "out", summary="again.json")
    assert [r.status for r in again[:3]] == ["complete"] * 3
    rows = json.loads((tmp_path / "out" / "again.json").read_text())
    assert rows[0]["acquisition"] == "scan_00001"
    assert rows[0]["status"] == "complete"


def test_a_damaged_acquisition_is_reported_and_the_others_go_on(archive, tmp_path, capsys):
    root, written = archive
    damaged = write_scan(root / "day1", ScanSpec(num_frames=4, frames_per_file=2), stem="bad")
    with damaged.paths[1].open("r+b") as f:  # garble the second file's header
        f.seek(100)
        f.write(bytes(2000))
    out = tmp_path / "out"
    assert main(["convert", str(root), "--out-dir", str(out), "--summary", "s.json"]) == 1
    captured = capsys.readouterr()
    assert "3 converted, 0 already complete, 1 failed, 1 skipped" in captured.out
    assert "failed: bad_00001:" in captured.err
    rows = {r["acquisition"]: r for r in json.loads((out / "s.json").read_text())}
    assert rows["bad_00001"]["status"] == "failed"
    assert "bad_00001_00002.tif" in rows["bad_00001"]["error"]
    assert rows["bad_00001"]["files"] == 2
    for stem, scan in written.items():
        assert rows[stem]["status"] == "converted"
        assert_store_holds(out / f"{stem}.zarr", scan)


def test_an_interrupted_batch_resumes_per_store_and_chunk(archive, tmp_path, monkeypatch):
    root, written = archive
    out = tmp_path / "out"
    monkeypatch.setattr(chunk_module, "write_chunk", Counting(fail_after=1))
    with dask.config.set(scheduler="synchronous"):
        results = convert_batch([root], out, chunk_frames=2)
    # the first acquisition stopped after one chunk; each later one failed at once
    assert [r.status for r in results[:3]] == ["failed"] * 3
    assert "RuntimeError: interrupted" in results[0].error
    again = Counting()
    monkeypatch.setattr(chunk_module, "write_chunk", again)
    results = convert_batch([root], out, chunk_frames=2)
    assert [r.status for r in results[:3]] == ["converted"] * 3
    assert (again.kept, again.written) == (1, 3 * 2 + 2 + 2 - 1)
    for stem, scan in written.items():
        assert_store_holds(out / f"{stem}.zarr", scan)


def test_batch_runs_on_a_distributed_cluster(archive, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    root, written = archive
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        argv = ["convert", str(root / "day1"), str(root / "day2" / "deep" / "*.tif")]
        argv += ["--out-dir", str(tmp_path / "out"), "--ngff", "0.5"]
        assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
    assert "2 converted, 0 already complete, 0 failed, 0 skipped" in capsys.readouterr().out
    for stem in ("scan_00001", "spot_00001"):
        store = tmp_path / "out" / f"{stem}.zarr"
        assert json.loads((store / "zarr.json").read_text())["attributes"]["ome"]["version"]
        assert_store_holds(store, written[stem])


def test_single_store_usage_still_works(archive, tmp_path, capsys):
    _, written = archive
    out = tmp_path / "one.zarr"
    paths = [str(p) for p in written["scan_00001"].paths]
    assert main(["convert", *paths, "-o", str(out), "--ngff", "0.5", "--shard-frames", "4"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert_store_holds(out, written["scan_00001"])
    array = zarr.open_array(str(out / "0" / "0"), mode="r")
    assert array.shards[0] == 4
    np.testing.assert_array_equal(array[...], read_scan(paths).read_field(0))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nothing_here_*.tif"], "no TIFF file matches this pattern"),
        (["missing_folder"], "no such file or folder"),
    ],
)
def test_bad_inputs_are_one_line_errors(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["convert", *argv, "--out-dir", "out"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("napari-scanimage: error:")
    assert message in err
    assert "\n" not in err


def test_summary_must_be_csv_or_json(archive, tmp_path, capsys):
    root, _ = archive
    assert (
        main(["convert", str(root), "--out-dir", str(tmp_path / "o"), "--summary", "s.txt"]) == 2
    )
    assert "must end in .csv or .json" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_out_and_out_dir_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["convert", "a.tif", "--out", "x.zarr", "--out-dir", str(tmp_path)])
    assert "not allowed with argument" in capsys.readouterr().err


@requires_real_data
def test_a_real_recording_round_trips_through_a_sharded_store(tmp_path):
    results = convert_batch([REAL_DATA], tmp_path, ngff="0.5")
    converted = [r for r in results if r.status == "converted"]
    assert converted
    for result in converted:
        record = json.loads(Path(result.store, "zarr.json").read_text())["attributes"]
        scan = read_scan(record["napari_scanimage"]["files"])
        for i in range(scan.num_fields):
            array = zarr.open_array(f"{result.store}/{i}/0", mode="r")
            stored = array[...] if array.ndim == 4 else array[:, :, 0]
            np.testing.assert_array_equal(stored, scan.read_field(i))


# -- the summary never replaces a file silently, never escapes --out-dir (issue 22, case 8) --


def test_an_existing_summary_is_never_replaced_without_overwrite(archive, tmp_path, capsys):
    root, _ = archive
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("my own table\n")
    assert main(["convert", str(root / "day1"), "--out-dir", str(out)]) == 0
    assert (out / "summary.csv").read_text() == "my own table\n"
    assert f"summary: {out / 'summary_2.csv'}" in capsys.readouterr().out
    assert rows_of(out / "summary_2.csv")["scan_00001"]["status"] == "converted"
    # the API keeps it too, and says where it wrote
    results = convert_batch([root / "day1"], out)
    assert results[0].status == "complete"
    assert (out / "summary_3.csv").is_file()
    assert (out / "summary.csv").read_text() == "my own table\n"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "summary.csv",
        "summary_2.csv",
        "summary_3.csv",
    ]  # fmt: skip  (no temporary files left behind)


def test_overwrite_replaces_the_summary_atomically(archive, tmp_path):
    root, _ = archive
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("old\n")
    convert_batch([root / "day1"], out, overwrite=True)
    assert rows_of(out / "summary.csv")["scan_00001"]["status"] == "converted"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["summary.csv"]


def test_the_summary_stays_inside_the_output_folder(archive, tmp_path, capsys, monkeypatch):
    root, _ = archive
    monkeypatch.chdir(tmp_path)
    argv = ["convert", str(root / "day1"), "--out-dir", "out", "--summary", "../victim.csv"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("napari-scanimage: error: ")
    assert "../victim.csv" in err
    assert "inside" in err
    assert "\n" not in err
    assert not (tmp_path / "victim.csv").exists()
    assert not (tmp_path / "out").exists()  # refused before anything was converted
    # an absolute path is the user's explicit choice
    target = tmp_path / "tables" / "run.json"
    target.parent.mkdir()
    assert main([*argv[:-1], str(target)]) == 0
    assert json.loads(target.read_text())[0]["acquisition"] == "scan_00001"
    assert f"summary: {target}" in capsys.readouterr().out
