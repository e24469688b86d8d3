"""Failures of remote storage end in our errors naming the URL, never a secret."""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
import uuid

import numpy as np
import pytest

from napari_scanimage import read_scan
from napari_scanimage.errors import (
    FileChangedError,
    FileReadError,
    ScanImageError,
    ScanImageNotFoundError,
)
from napari_scanimage.testing import write_scan
from tests.remote.conftest import BUCKET, MROI
from tests.remote.servers import Fault


@pytest.fixture
def fresh(request, s3, http, recordings):
    """A private copy of the mROI recording (replaceable): ``(url, options, traffic, put)``."""
    source = recordings.local("mroi")[0]
    name = f"private/{uuid.uuid4().hex}.tif"
    if request.param == "s3":
        fs = s3.filesystem()
        fs.put(source, f"{BUCKET}/{name}")

        def put(path):
            fs.put(str(path), f"{BUCKET}/{name}")

        def delete():
            fs.rm(f"{BUCKET}/{name}")

        return f"s3://{BUCKET}/{name}", s3.options, s3.traffic, put, delete
    target = recordings.folder / name
    target.parent.mkdir(exist_ok=True)
    shutil.copy(source, target)
    return (
        f"{http.url}/{name}",
        {},
        http.traffic,
        lambda path: shutil.copy(path, target),
        target.unlink,
    )


both = pytest.mark.parametrize("fresh", ["s3", "http"], indirect=True)


def test_a_missing_object_is_named(remote):
    url = remote.url("nowhere/scan_00001.tif")
    with pytest.raises(ScanImageNotFoundError, match=f"^{url}: no such object"):
        read_scan(url, storage_options=remote.options)


def test_a_pattern_matching_nothing_is_named(remote):
    url = remote.url("split/nothing_*.tif")
    with pytest.raises(ScanImageNotFoundError, match="no object matches"):
        read_scan(url, storage_options=remote.options)


@both
def test_access_denied_names_the_url(fresh):
    url, options, traffic, _, _ = fresh
    traffic.faults.append(Fault("status", match="private", status=403, times=10))
    with pytest.raises(FileReadError, match=f"^{url}: access denied"):
        read_scan(url, storage_options=options)
    traffic.faults.clear()
    scan = read_scan(url, storage_options=options)
    traffic.faults.append(Fault("status", match="private", status=403, times=10))
    with pytest.raises(FileReadError, match="access denied"):
        scan.read_field(0)


@both
def test_transient_failures_are_retried(fresh, recordings):
    url, options, traffic, _, _ = fresh
    scan = read_scan(url, storage_options=options)
    expected = read_scan(recordings.local("mroi")).read_field(1)
    traffic.faults.append(Fault("status", match="private", status=503, times=2))
    np.testing.assert_array_equal(scan.read_field(1), expected)
    traffic.faults.append(Fault("reset", match="private", times=1))
    np.testing.assert_array_equal(scan.read_field(1), expected)
    assert not [f for f in traffic.faults if f.times]  # every fault was met, and survived


@both
def test_a_connection_that_keeps_failing_ends_in_our_error(fresh, monkeypatch):
    url, options, traffic, _, _ = fresh
    scan = read_scan(url, storage_options=options)
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "1")
    traffic.faults.append(Fault("reset", match="private", times=1000))
    with pytest.raises(FileReadError, match=f"^{url}: the connection failed while reading"):
        scan.read_field(0)


@both
def test_a_server_that_does_not_answer_times_out(fresh, monkeypatch):
    url, options, traffic, _, _ = fresh
    scan = read_scan(url, storage_options=options)
    monkeypatch.setenv("NAPARI_SCANIMAGE_TIMEOUT", "0.3")
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "1")
    traffic.faults.append(Fault("hang", match="private", seconds=1.0, times=1000))
    with pytest.raises(FileReadError, match=r"no answer within 0.3 s while reading \(after 2"):
        scan.read_field(0, frames=[0])


@both
def test_an_object_replaced_while_open(fresh, tmp_path):
    url, options, _, put, _ = fresh
    scan = read_scan(url, storage_options=options)
    scan.read_field(0, frames=[0])
    other = write_scan(tmp_path, dataclasses.replace(MROI, seed=99)).paths[0]
    put(other)  # same size, other pixels
    with pytest.raises(FileChangedError, match=f"^{url}: was replaced since it was opened"):
        scan.read_field(0, frames=[5])


@both
def test_an_object_cut_short_or_deleted_while_open(fresh, tmp_path):
    url, options, _, put, delete = fresh
    scan = read_scan(url, storage_options=options)
    short = tmp_path / "short.tif"
    short.write_bytes(b"\0" * 1000)
    put(short)
    with pytest.raises(FileChangedError, match=f"^{url}: "):
        scan.read_field(0)
    delete()
    with pytest.raises(FileChangedError, match=f"^{url}: "):
        scan.read_field(1)


def test_a_presigned_urls_signature_never_reaches_a_message(s3, recordings, monkeypatch):
    fs = s3.filesystem()
    name = f"private/{uuid.uuid4().hex}.tif"
    fs.put(recordings.local("mroi")[0], f"{BUCKET}/{name}")
    url = fs.url(f"{BUCKET}/{name}", expires=600)
    secret = url.split("Signature=")[1].split("&")[0]
    assert secret
    assert "?" in url
    plain = url.split("?")[0]
    scan = read_scan(url)  # over HTTP(S), the query signs every request
    assert scan.filenames == [plain]
    np.testing.assert_array_equal(scan[0], read_scan(recordings.local("mroi"))[0])
    messages = []
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "0")
    monkeypatch.setenv("NAPARI_SCANIMAGE_TIMEOUT", "0.3")
    for fault in (
        Fault("status", match=name, status=403, times=1000),
        Fault("status", match=name, status=500, times=1000),
        Fault("reset", match=name, times=1000),
        Fault("hang", match=name, seconds=0.8, times=1000),
    ):
        s3.traffic.faults[:] = [fault]
        with pytest.raises(ScanImageError) as failed:
            scan.read_field(1)
        messages.append(str(failed.value))
        with pytest.raises(ScanImageError) as failed:
            read_scan(url)
        messages.append(str(failed.value))
    s3.traffic.faults.clear()
    fs.rm(f"{BUCKET}/{name}")
    for attempt in (lambda: scan.read_field(2), lambda: read_scan(url)):
        with pytest.raises(ScanImageError) as failed:
            attempt()
        messages.append(str(failed.value))
    assert all(m.startswith(plain) for m in messages), messages
    assert not [m for m in messages if secret in m or "Signature" in m], messages


@both
def test_opening_a_server_that_does_not_answer_times_out(fresh, monkeypatch):
    """The lookup that opens an object has the request timeout too (found in review)."""
    url, options, traffic, _, _ = fresh
    monkeypatch.setenv("NAPARI_SCANIMAGE_TIMEOUT", "0.3")
    monkeypatch.setenv("NAPARI_SCANIMAGE_RETRIES", "0")
    traffic.faults.append(Fault("hang", match="private", seconds=3.0, times=1000))
    start = time.perf_counter()
    with pytest.raises(ScanImageError, match=f"^{re.escape(url)}"):
        read_scan(url, storage_options=options)
    assert time.perf_counter() - start < 2.5
