"""The command line, export and summary images over remote storage."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import zarr

from napari_scanimage import read_scan
from napari_scanimage.cli import main
from napari_scanimage.errors import ScanImageError
from napari_scanimage.export import chunks as chunk_module
from tests.remote.conftest import BUCKET
from tests.remote.servers import Fault


@pytest.fixture(autouse=True)
def _own_fsspec_config(monkeypatch):
    """--storage-option sets fsspec's defaults in this process: each test gets its own."""
    import fsspec.config

    monkeypatch.setattr(fsspec.config, "conf", copy.deepcopy(fsspec.config.conf))


def s3_flags(s3):
    return [f"--storage-option={k}={v}" for k, v in s3.options.items()]


def test_info_reads_an_s3_url_with_storage_options(s3, recordings, capsys):
    url = f"s3://{BUCKET}/{recordings.names('split')[0]}"
    assert main(["info", "--json", *s3_flags(s3), url]) == 0
    out, err = capsys.readouterr()
    assert "reading all 3 files of the acquisition" in err
    assert f"s3://{BUCKET}/split/scan_00001_00003.tif" in out
    assert '"num_frames": 9' in out.replace(" ", "").replace('"num_frames":9', '"num_frames": 9')


def test_a_missing_url_is_one_line(s3, capsys):
    url = f"s3://{BUCKET}/nowhere/scan_00001.tif"
    assert main(["info", *s3_flags(s3), url]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"napari-scanimage: error: {url}: no such object"]


def test_storage_options_parse_as_json_where_they_can(capsys):
    from napari_scanimage.cli import _storage_option

    assert _storage_option("anon=true") == ("anon", True)
    assert _storage_option("endpoint_url=http://h:9000") == ("endpoint_url", "http://h:9000")
    assert _storage_option('client_kwargs={"region_name": "x"}') == (
        "client_kwargs",
        {"region_name": "x"},
    )
    with pytest.raises(SystemExit):
        main(["info", "--storage-option", "novalue", "s3://b/x.tif"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_summary_images_of_an_http_recording(http, recordings, tmp_path, capsys):
    url = f"{http.url}/{recordings.names('mroi')[0]}"
    assert main(["summary", "--quiet", "--kind", "mean,max", "--out", str(tmp_path), url]) == 0
    written = capsys.readouterr().out.split()
    assert len([p for p in written if p.endswith(".tif")]) == 4 * 2 * 2  # fields x chans x kinds
    import tifffile

    mean = next(p for p in written if "mean" in p and p.endswith(".tif"))
    assert tifffile.imread(mean).shape[0] > 0


def test_convert_a_remote_scan_resumes_after_a_failure(s3, recordings, tmp_path, monkeypatch):
    url = f"s3://{BUCKET}/{recordings.names('mroi')[0]}"
    store = tmp_path / "out.zarr"
    scan = read_scan(url, storage_options=s3.options)
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "0")
    real_write = chunk_module.write_chunk

    def failing_from_the_first_chunk(task):  # the store exists; its reads now fail
        if not s3.traffic.faults:
            s3.traffic.faults.append(Fault("reset", match="mroi", times=1000))
        return real_write(task)

    monkeypatch.setattr(chunk_module, "write_chunk", failing_from_the_first_chunk)
    with pytest.raises(ScanImageError, match=f"{url}: the connection failed"):
        scan.to_zarr(store, chunk_frames=4)
    s3.traffic.faults.clear()
    monkeypatch.setattr(chunk_module, "write_chunk", real_write)
    root = zarr.open_group(str(store), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is False
    flags = [*s3_flags(s3), "--chunk-frames", "4"]
    assert main(["convert", "--quiet", *flags, "--out", str(store), url]) == 0
    root = zarr.open_group(str(store), mode="r")
    record = root.attrs["napari_scanimage"]
    assert record["complete"] is True
    assert url in str(record)
    local = read_scan(recordings.local("mroi"))
    for i in range(4):
        data = zarr.open_array(str(store / str(i) / "0"), mode="r")[...]
        np.testing.assert_array_equal(data.reshape(12, 2, *data.shape[-2:]), local.read_field(i))


def test_convert_every_acquisition_matching_a_url_pattern(http, recordings, tmp_path, capsys):
    pattern = f"{http.url}/split/scan_*.tif"
    out = tmp_path / "stores"
    assert main(["convert", "--quiet", "--out-dir", str(out), pattern]) == 0
    root = zarr.open_group(str(out / "scan_00001.zarr"), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is True
    data = zarr.open_array(str(out / "scan_00001.zarr" / "0" / "0"), mode="r")[...]
    local = read_scan(recordings.local("split")).read_field(0)
    np.testing.assert_array_equal(data.reshape(local.shape), local)


def test_nwb_of_a_remote_scan_equals_the_local_one(http, recordings, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    url = f"{http.url}/{recordings.names('mroi')[0]}"
    remote = read_scan(url)
    target = remote.to_nwb(tmp_path / "remote.nwb", compression=None)
    local = read_scan(recordings.local("mroi"))
    with pynwb.NWBHDF5IO(str(target), "r") as io:
        nwbfile = io.read()
        data = nwbfile.acquisition["TwoPhotonSeriesField2Ch1"].data[:]
    np.testing.assert_array_equal(data, local.read_field(1, channels=[0])[:, 0])
    assert "?" not in str(target)


def test_nwb_of_a_remote_scan_fails_cleanly(http, recordings, tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "0")
    url = f"{http.url}/{recordings.names('mroi')[0]}"
    scan = read_scan(url)
    http.traffic.faults.append(Fault("status", match="mroi", times=1000, status=500))
    with pytest.raises(ScanImageError, match=f"{re.escape(url)}"):
        scan.to_nwb(tmp_path / "remote.nwb", compression=None)
    http.traffic.faults.clear()
    assert not (tmp_path / "remote.nwb").exists()  # nothing that looks complete


def test_storage_options_that_are_not_json_reach_the_export_and_stay_out_of_reprs(
    http, recordings, tmp_path
):
    """Client objects (an aiohttp timeout) pass to the workers as given (found in review)."""
    aiohttp = pytest.importorskip("aiohttp")
    from napari_scanimage.export.recipe import ScanRecipe

    url = f"{http.url}/{recordings.names('mroi')[0]}"
    options = {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=30)}}
    scan = read_scan(url, storage_options=options)
    store = scan.to_zarr(tmp_path / "out.zarr")
    data = zarr.open_array(str(store / "0" / "0"), mode="r")[...]
    local = read_scan(recordings.local("mroi"))
    np.testing.assert_array_equal(data.reshape(local.read_field(0).shape), local.read_field(0))
    recipe = ScanRecipe.of(read_scan(url + "?X-Amz-Signature=SIGSECRET", storage_options={
        "client_kwargs": {"headers": {"Authorization": "Bearer TOKENSECRET"}}}))  # fmt: skip
    assert "SIGSECRET" not in repr(recipe)
    assert "TOKENSECRET" not in repr(recipe)
