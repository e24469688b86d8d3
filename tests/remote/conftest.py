"""Servers for remote-storage tests, started once per session on free localhost ports.

S3 is moto in server mode (a real S3 HTTP API), HTTP a threaded server that
honours Range requests; both count requests and can add latency or fail on
purpose (see ``servers``).  The recordings are written once, uploaded to the
bucket and placed in the HTTP server's folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from napari_scanimage.testing import RoiSpec, ScanSpec, write_scan
from napari_scanimage.testing_legacy import resave_scan
from tests.remote.servers import MotoS3, RangeServer

pytest.importorskip("fsspec")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

BUCKET = "scans"

# 10,000 pages of 48x48 int16 (54 MB): open + count + first frame must stay a few requests
LONG = ScanSpec(
    num_frames=10_000, rois=(RoiSpec(pixels_xy=(48, 48)),), description_slot=400, seed=3
)
# 4 ROIs stacked in each page, 2 channels: a field is a quarter of a page's rows
MROI = ScanSpec(
    rois=tuple(
        RoiSpec(name=f"r{i}", center_xy=(4.0 * i, 0.0), size_xy=(4.0, 4.0), pixels_xy=(256, 128))
        for i in range(4)
    ),
    channels=(1, 2),
    num_frames=12,
    seed=5,
)
SPLIT = ScanSpec(num_frames=9, frames_per_file=4, rois=(RoiSpec(pixels_xy=(32, 24)),), seed=7)


@dataclasses.dataclass
class Recordings:
    folder: Path
    written: dict

    def local(self, name: str) -> list[str]:
        return [str(p) for p in self.written[name].paths]

    def names(self, name: str) -> list[str]:
        return [f"{name}/{Path(p).name}" for p in self.written[name].paths]


@pytest.fixture(scope="session")
def recordings(tmp_path_factory) -> Recordings:
    root = tmp_path_factory.mktemp("remote-data")
    written = {}
    for name, spec, stem in (
        ("long", LONG, "long"),
        ("mroi", MROI, "mroi"),
        ("split", SPLIT, "scan"),
    ):
        folder = root / name
        folder.mkdir()
        written[name] = write_scan(folder, spec, stem=stem, keep_truth=name != "long")
    (root / "other").mkdir()
    (root / "other" / "notes.tif").write_bytes(b"not a tiff at all" * 100)
    # what other tools re-save: a BigTIFF and a classic TIFF without the static block
    first = written["split"].paths[0]
    resave_scan(first, root / "other" / "resaved_big.tif")
    resave_scan(first, root / "other" / "resaved_classic.tif", bigtiff=False)
    return Recordings(root, written)


@pytest.fixture(scope="session")
def s3(recordings):
    server = MotoS3().start()
    fs = server.filesystem()
    fs.mkdir(BUCKET)
    for path in recordings.folder.rglob("*.tif"):
        fs.put(str(path), f"{BUCKET}/{path.relative_to(recordings.folder).as_posix()}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http(recordings):
    server = RangeServer(recordings.folder).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _quiet_servers(request, monkeypatch):
    """Each test starts with no latency, no faults, no requests counted, default retries."""
    monkeypatch.delenv("NAPARI_SCANIMAGE_TIMEOUT", raising=False)
    monkeypatch.delenv("NAPARI_SCANIMAGE_RETRIES", raising=False)
    for name in ("s3", "http"):
        if name in request.fixturenames:
            request.getfixturevalue(name).traffic.reset()


@pytest.fixture(params=["s3", "http"])
def remote(request, s3, http):
    """``(url of a recording's file, storage options, traffic)`` on either server."""
    if request.param == "s3":

        def url(name: str) -> str:
            return f"s3://{BUCKET}/{name}"

        return Remote(request.param, url, s3.options, s3.traffic)

    def http_url(name: str) -> str:
        return f"{http.url}/{name}"

    return Remote(request.param, http_url, {}, http.traffic)


@dataclasses.dataclass
class Remote:
    kind: str
    url: object
    options: dict
    traffic: object
