"""OME-Zarr export: values, metadata, chunking, codecs, dask, resuming, CLI, memory."""

from __future__ import annotations

import io
import json
import math
import tracemalloc
import xml.etree.ElementTree as ET

import dask
import numpy as np
import pytest
import zarr

from napari_scanimage import ScanImageError, read_scan
from napari_scanimage.cli import main
from napari_scanimage.export import ExportError, session, to_zarr
from napari_scanimage.export import chunks as chunk_module
from napari_scanimage.export.describe import jsonable
from napari_scanimage.export.ngff import placement
from napari_scanimage.export.ome_xml import OME_NAMESPACE
from napari_scanimage.export.plan import ExportPlan
from napari_scanimage.export.progress import terminal_progress
from napari_scanimage.export.recipe import ScanRecipe
from napari_scanimage.export.store import RECORDS
from napari_scanimage.summary import summarize
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import STRIPS


@pytest.fixture
def mroi(write):
    return write(ScanSpec(rois=STRIPS, channels=(1, 2), num_frames=10, frames_per_file=4))


@pytest.fixture
def fast_z(write):
    rois = (RoiSpec(name="a", pixels_xy=(20, 12)), RoiSpec(name="b", center_xy=(8.0, 0.0)))
    spec = ScanSpec(
        rois=rois, channels=(1, 2), num_frames=5, stack="fast", zs=(0.0, 10.0, 20.0),
        flyback_frames=1,
    )  # fmt: skip
    return write(spec)


def image_array(out, image):
    return zarr.open_array(str(out / image / "0"), mode="r")


def multiscale(out, image):
    return zarr.open_group(str(out / image), mode="r").attrs["multiscales"][0]


WRITE_CHUNK = chunk_module.write_chunk


class Counting:
    """Wraps write_chunk: counts chunks written and kept, optionally fails after n writes."""

    def __init__(self, fail_after=None):
        self.real = WRITE_CHUNK
        self.fail_after = fail_after
        self.written = 0
        self.kept = 0

    def __call__(self, task):
        if self.fail_after is not None and self.written >= self.fail_after:
            raise RuntimeError("interrupted")
        wrote = self.real(task)
        self.written += wrote
        self.kept += not wrote
        return wrote


def test_mroi_values_and_placement(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    assert out == tmp_path / "out.zarr"
    for i, truth in enumerate(mroi.fields):
        array = image_array(out, str(i))
        assert array.shape == (10, 2, truth.height, truth.width)
        np.testing.assert_array_equal(array[...], truth.data)
    ms = multiscale(out, "0")
    assert ms["version"] == "0.4"
    assert [(a["name"], a["type"], a.get("unit")) for a in ms["axes"]] == [
        ("t", "time", "second"),
        ("c", "channel", None),
        ("y", "space", "micrometer"),
        ("x", "space", "micrometer"),
    ]
    assert ms["datasets"][0]["path"] == "0"
    scale, translation = ms["datasets"][0]["coordinateTransformations"]
    # strip 1: 6 x 8 degrees over 24 x 32 px = 3.75 µm pixels, outer corner at (-60, -90) µm;
    # NGFF (like napari) puts index 0 at the first pixel's centre, half a pixel inside
    assert scale["type"] == "scale"
    assert scale["scale"] == pytest.approx([1 / 30, 1.0, 3.75, 3.75])
    assert translation["type"] == "translation"
    assert translation["translation"] == pytest.approx([0.0, 0.0, -60 + 1.875, -90 + 1.875])
    spot = multiscale(out, "2")["datasets"][0]["coordinateTransformations"]
    assert spot[1]["translation"] == pytest.approx(
        [0, 0, 90 - 22.5 + 1.40625, 180 - 22.5 + 1.40625]
    )


def test_root_records_the_scan_and_lists_the_images(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    out = to_zarr(scan, tmp_path / "out.zarr")
    attrs = zarr.open_group(str(out), mode="r").attrs.asdict()
    assert attrs["bioformats2raw.layout"] == 3
    record = attrs["napari_scanimage"]
    assert record["complete"] is True
    assert record["summary"] == jsonable(summarize(scan))
    assert record["header"]["frame_data"]["SI"]["hRoiManager"]["mroiEnable"] in (True, 1)
    assert record["header"]["roi_groups"] == jsonable(scan.roi_groups)
    assert record["images"] == [{"path": str(i), "field": i} for i in range(3)]
    assert record["channels"] == [1, 2]
    assert record["settings"]["chunk_frames"] == 32
    image = zarr.open_group(str(out / "1"), mode="r").attrs.asdict()
    assert image["napari_scanimage"]["field"] == 1
    assert image["napari_scanimage"]["geometry"]["roi_names"] == ["s2"]
    labels = [c["label"] for c in image["omero"]["channels"]]
    assert labels == ["scan_00001 · field 2 · ch 1", "scan_00001 · field 2 · ch 2"]
    assert [c["color"] for c in image["omero"]["channels"]] == ["00FF00", "FF00FF"]
    window = image["omero"]["channels"][0]["window"]
    assert window["min"] == -32768
    assert window["min"] <= window["start"] < window["end"] <= window["max"]
    assert zarr.open_group(str(out / "OME"), mode="r").attrs["series"] == ["0", "1", "2"]
    xml = ET.parse(out / "OME" / "METADATA.ome.xml").getroot()
    images = xml.findall(f"{{{OME_NAMESPACE}}}Image")
    assert [im.get("ID") for im in images] == ["Image:0", "Image:1", "Image:2"]
    pixels = images[2].find(f"{{{OME_NAMESPACE}}}Pixels")
    assert (pixels.get("SizeX"), pixels.get("SizeY"), pixels.get("SizeC")) == ("16", "16", "2")
    assert not (out / RECORDS).exists()


def test_attributes_are_strict_json(mroi, tmp_path):
    # ScanImage headers hold Inf and NaN; Zarr would write them as bare words
    out = to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr")

    def reject(token):
        raise ValueError(token)

    attrs = json.loads((out / ".zattrs").read_text(), parse_constant=reject)
    beams = attrs["napari_scanimage"]["header"]["frame_data"]["SI"]["hBeams"]
    assert beams["lengthConstants"] == "Infinity"


def test_fast_z_fields_get_a_z_axis_at_their_depth(fast_z, tmp_path):
    scan = read_scan(fast_z.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=2)
    assert len(scan.fields) == 6
    for i, truth in enumerate(fast_z.fields):
        array = image_array(out, str(i))
        assert array.shape == (5, 2, 1, truth.height, truth.width)
        assert array.chunks == (2, 1, 1, truth.height, truth.width)
        np.testing.assert_array_equal(array[:, :, 0], truth.data)
        ms = multiscale(out, str(i))
        assert [a["name"] for a in ms["axes"]] == ["t", "c", "z", "y", "x"]
        scale, translation = ms["datasets"][0]["coordinateTransformations"]
        assert scale["scale"][:3] == pytest.approx([1 / scan.fps, 1.0, 10.0])
        assert translation["translation"][:3] == [0.0, 0.0, truth.z]
    assert scan.fps == pytest.approx(30 / 4)  # volume rate: 3 planes + 1 flyback


def test_an_unknown_frame_rate_leaves_time_in_frames(mroi):
    image = ExportPlan.of(
        read_scan(mroi.paths), chunk_frames=4, compression=None, channels=None, fields=None
    ).images[0]
    axes, scale, _ = placement(image, fps=math.nan, z_step=None, has_z=False)
    assert axes[0] == {"name": "t", "type": "time"}
    assert scale[0] == 1.0


def test_chunks_are_frames_by_one_channel(mroi, tmp_path):
    out = to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr", chunk_frames=4)
    array = image_array(out, "0")
    assert array.chunks == (4, 1, 32, 24)
    assert array.metadata.dimension_separator == "/"
    stored = sorted(
        p.relative_to(out / "0" / "0").as_posix() for p in (out / "0" / "0").rglob("*")
    )
    stored = [p for p in stored if p.count("/") == 3]
    assert stored == [f"{t}/{c}/0/0" for t in range(3) for c in range(2)]


@pytest.mark.parametrize("compression", ["zstd", "blosc"])
def test_compression_round_trip(write, tmp_path, compression):
    written = write(ScanSpec(num_frames=6, channels=(1, 2), content="cells"))
    out = to_zarr(read_scan(written.paths), tmp_path / "out.zarr", compression=compression)
    array = image_array(out, "0")
    assert array.compressors[0].codec_id == compression
    np.testing.assert_array_equal(array[...], written.fields[0].data)
    raw = written.fields[0].data.nbytes
    chunk_files = [p for p in (out / "0" / "0").rglob("*") if p.is_file() and p.name[0] != "."]
    assert len(chunk_files) == 2
    assert sum(p.stat().st_size for p in chunk_files) < raw  # noisy cells: a little smaller


def test_uncompressed_by_default(mroi, tmp_path):
    out = to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr")
    assert image_array(out, "0").compressors == ()


def test_chosen_channels_and_fields(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    out = to_zarr(scan, tmp_path / "out.zarr", channels=[1], fields=[2, 0])
    np.testing.assert_array_equal(image_array(out, "0")[...], mroi.fields[2].data[:, 1:2])
    np.testing.assert_array_equal(image_array(out, "1")[...], mroi.fields[0].data[:, 1:2])
    assert not (out / "2").exists()
    image = zarr.open_group(str(out / "0"), mode="r").attrs.asdict()
    assert image["napari_scanimage"]["field"] == 2
    assert [c["label"] for c in image["omero"]["channels"]] == ["scan_00001 · field 3 · ch 2"]


def test_joined_trimmed_and_float_scans_export_what_they_read(mroi, tmp_path):
    scan = read_scan(mroi.paths, dtype="float32", join_contiguous=True, trim=(1, 2, 3, 0))
    out = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=3)
    assert len(scan.fields) == 2
    for i in range(2):
        array = image_array(out, str(i))
        assert array.dtype == np.float32
        np.testing.assert_array_equal(array[...], scan.read_field(i))
    ms = multiscale(out, "0")
    dy, dx = scan.fields[0].pixel_size_um
    y0, x0 = scan.fields[0].top_left_um
    translation = ms["datasets"][0]["coordinateTransformations"][1]["translation"]
    assert translation[2:] == pytest.approx([y0 + dy / 2, x0 + dx / 2])


def test_progress_runs_from_zero_to_total(mroi, tmp_path):
    calls = []
    to_zarr(
        read_scan(mroi.paths),
        tmp_path / "out.zarr",
        chunk_frames=4,
        progress=lambda *a: calls.append(a),
    )
    total = 3 * 2 * 3  # fields x channels x blocks of 4 frames
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == list(range(total + 1))


def test_distributed_process_workers(mroi, tmp_path):
    distributed = pytest.importorskip("distributed")
    calls = []
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        out = to_zarr(
            read_scan(mroi.paths), tmp_path / "out.zarr", chunk_frames=4, client=client,
            progress=lambda *a: calls.append(a),
        )  # fmt: skip

        # process workers open the scan and arrays themselves (no maps travel) and
        # let go of them when the conversion ends
        assert set(client.run(session.count).values()) == {0}
    assert session.count() == 0
    for i, truth in enumerate(mroi.fields):
        np.testing.assert_array_equal(image_array(out, str(i))[...], truth.data)
    assert calls[-1] == (18, 18)
    assert zarr.open_group(str(out), mode="r").attrs["napari_scanimage"]["complete"] is True


def test_an_interrupted_conversion_resumes_with_the_missing_chunks(mroi, tmp_path, monkeypatch):
    scan = read_scan(mroi.paths)
    path = tmp_path / "out.zarr"
    total = 3 * 2 * 3
    first = Counting(fail_after=7)
    monkeypatch.setattr(chunk_module, "write_chunk", first)
    with (
        dask.config.set(scheduler="synchronous"),
        pytest.raises(RuntimeError, match="interrupted"),
    ):
        to_zarr(scan, path, chunk_frames=4)
    assert first.written == 7
    # nothing looks finished: no OME metadata, no completion flag, records of 7 chunks
    root = zarr.open_group(str(path), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is False
    assert "bioformats2raw.layout" not in root.attrs
    assert all("multiscales" not in root[str(i)].attrs for i in range(3))
    assert not (path / "OME").exists()
    done = sum(int((root[RECORDS][str(i)][...] >= 0).sum()) for i in range(3))
    assert done == 7

    second = Counting()
    monkeypatch.setattr(chunk_module, "write_chunk", second)
    calls = []
    to_zarr(scan, path, chunk_frames=4, progress=lambda *a: calls.append(a))
    assert (second.written, second.kept) == (total - 7, 7)
    assert calls[-1] == (total, total)
    for i, truth in enumerate(mroi.fields):
        np.testing.assert_array_equal(image_array(path, str(i))[...], truth.data)
    root = zarr.open_group(str(path), mode="r")
    assert root.attrs["napari_scanimage"]["complete"] is True
    assert "multiscales" in root["0"].attrs
    assert not (path / RECORDS).exists()


def test_a_damaged_chunk_is_written_again(mroi, tmp_path, monkeypatch):
    scan = read_scan(mroi.paths)
    path = tmp_path / "out.zarr"
    monkeypatch.setattr(chunk_module, "write_chunk", Counting(fail_after=4))
    with dask.config.set(scheduler="synchronous"), pytest.raises(RuntimeError):
        to_zarr(scan, path, chunk_frames=4)
    recorded = [
        (image, block, channel)
        for image in "012"
        for block, channel in np.argwhere(zarr.open_array(str(path / RECORDS / image))[...] >= 0)
    ]
    assert len(recorded) == 4
    (image, block, channel), (garbled, gblock, gchannel) = recorded[:2]
    array = zarr.open_array(str(path / image / "0"), mode="r+")
    array[4 * block : 4 * block + 4, channel] = 0  # recorded, but no longer what was recorded
    (path / garbled / "0" / str(gblock) / str(gchannel) / "0" / "0").write_bytes(b"garbage")
    again = Counting()
    monkeypatch.setattr(chunk_module, "write_chunk", again)
    to_zarr(scan, path, chunk_frames=4)
    assert (again.written, again.kept) == (18 - 4 + 2, 2)
    for i, truth in enumerate(mroi.fields):
        np.testing.assert_array_equal(image_array(path, str(i))[...], truth.data)


def test_a_complete_store_is_not_written_again(mroi, tmp_path, monkeypatch):
    scan = read_scan(mroi.paths)
    path = to_zarr(scan, tmp_path / "out.zarr")
    counting = Counting()
    monkeypatch.setattr(chunk_module, "write_chunk", counting)
    calls = []
    assert to_zarr(scan, path, progress=lambda *a: calls.append(a)) == path
    assert counting.written + counting.kept == 0
    assert calls == [(6, 6)]


def test_other_settings_are_refused_until_overwrite(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    path = to_zarr(scan, tmp_path / "out.zarr", chunk_frames=4)
    with pytest.raises(ExportError, match=r"other settings \(chunk_frames, compression\)"):
        to_zarr(scan, path, chunk_frames=5, compression="zstd")
    to_zarr(scan, path, chunk_frames=5, compression="zstd", overwrite=True)
    assert image_array(path, "0").chunks[0] == 5


def test_foreign_paths_are_never_overwritten_silently(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match="not a napari-scanimage conversion"):
        to_zarr(scan, folder)
    with pytest.raises(ExportError, match=r"refusing to replace .*not a Zarr store"):
        to_zarr(scan, folder, overwrite=True)
    assert (folder / "keep.txt").exists()
    other = zarr.open_group(str(tmp_path / "other.zarr"), mode="w", zarr_format=2)
    other.attrs["x"] = 1
    with pytest.raises(ExportError, match="not a napari-scanimage conversion"):
        to_zarr(scan, tmp_path / "other.zarr")
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    assert to_zarr(scan, empty) == empty


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"chunk_frames": 0}, "chunk_frames must be a positive integer"),
        ({"compression": "lz4"}, "compression must be None, 'zstd' or 'blosc'"),
        ({"channels": [2]}, r"channels: 2 is not an index below 2"),
        ({"fields": []}, "fields: choose at least one"),
        ({"fields": [1, 1]}, r"fields: \[1, 1\] repeats an index"),
    ],
)
def test_bad_options(mroi, tmp_path, options, message):
    with pytest.raises(ExportError, match=message):
        to_zarr(read_scan(mroi.paths), tmp_path / "out.zarr", **options)
    assert not (tmp_path / "out.zarr").exists()


def test_changed_files_stop_a_worker(mroi, tmp_path):
    scan = read_scan(mroi.paths)
    recipe = ScanRecipe.of(scan)
    stale = ScanRecipe(**{**recipe.__dict__, "num_frames": 11})
    with pytest.raises(ExportError, match="changed on disk during the conversion"):
        stale.open()


# Listing a whole bioformats2raw store, zarr-python notes that OME/METADATA.ome.xml (which
# the layout requires) is not a Zarr node; that is expected, nothing else may warn.
@pytest.mark.filterwarnings(
    "ignore:Object at METADATA.ome.xml is not recognized:zarr.errors.ZarrUserWarning"
)
def test_the_plain_zarr_api_reads_the_store(fast_z, tmp_path):
    out = to_zarr(read_scan(fast_z.paths), tmp_path / "out.zarr", compression="zstd")
    root = zarr.open_group(str(out), mode="r")
    members = dict(root.members(max_depth=None))
    assert sorted(k for k, v in members.items() if isinstance(v, zarr.Array)) == [
        f"{i}/0" for i in range(6)
    ]
    assert root["3/0"].shape == (5, 2, 1, 48, 64)
    np.testing.assert_array_equal(root["3/0"][2, 1, 0], fast_z.fields[3].data[2, 1])


def test_convert_command(mroi, tmp_path, capsys):
    out = tmp_path / "cli.zarr"
    argv = ["convert", *map(str, mroi.paths), "--out", str(out), "--chunk-frames", "4"]
    assert main([*argv, "--compression", "zstd", "--join", "--trim", "1", "1", "0", "0"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    scan = read_scan(mroi.paths, join_contiguous=True, trim=(1, 1, 0, 0))
    assert len(scan.fields) == 2
    for i in range(2):
        array = image_array(out, str(i))
        assert array.compressors[0].codec_id == "zstd"
        np.testing.assert_array_equal(array[...], scan.read_field(i))
    assert main([*argv, "--compression", "blosc", "--join", "--trim", "1", "1", "0", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"napari-scanimage: error: {out} holds a conversion with other settings")
    assert "\n" not in err
    assert main([*argv, "--overwrite"]) == 0
    assert image_array(out, "2").compressors == ()


def test_terminal_progress_bar():
    stream = io.StringIO()
    with terminal_progress("converting", file=stream, enabled=True) as update:
        for done in range(6):
            update(done, 5)
    assert "5/5" in stream.getvalue()
    assert "chunk" in stream.getvalue()


def test_memory_stays_near_a_few_chunks(write, tmp_path):
    roi = RoiSpec(size_xy=(6.0, 6.0), pixels_xy=(128, 128))
    written = write(ScanSpec(rois=(roi,), num_frames=480), keep_truth=False)
    scan = read_scan(written.paths)
    chunk_bytes = 16 * 128 * 128 * 2  # 0.5 MB
    field_bytes = scan.num_frames * 128 * 128 * 2  # 15.7 MB: 30 chunks
    to_zarr(scan, tmp_path / "warm.zarr", fields=[0], chunk_frames=16)  # imports, caches
    tracemalloc.start()
    try:
        to_zarr(scan, tmp_path / "out.zarr", chunk_frames=16, compression="zstd")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * chunk_bytes, (
        f"peak {peak / 1e6:.1f} MB for {chunk_bytes / 1e6:.1f} MB chunks"
    )
    assert peak < field_bytes / 3
    assert math.isclose(image_array(tmp_path / "out.zarr", "0").nbytes, field_bytes)


def test_scan_phase_correction_is_applied_and_recorded(write, tmp_path):
    strips = (
        RoiSpec(name="a", center_xy=(-3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(64, 48)),
        RoiSpec(name="b", center_xy=(3.0, 0.0), size_xy=(6.0, 8.0), pixels_xy=(64, 48)),
    )
    written = write(ScanSpec(rois=strips, content="tissue", scan_phase=1.5, num_frames=6))
    scan = read_scan(written.paths, join_contiguous=True, fix_scan_phase=True)
    out = scan.to_zarr(tmp_path / "fixed.zarr", chunk_frames=4)
    np.testing.assert_array_equal(image_array(out, "0")[:, 0], scan.read_field(0)[:, 0])
    raw = read_scan(written.paths, join_contiguous=True).read_field(0)[:, 0]
    assert not np.array_equal(image_array(out, "0")[:, 0], raw)
    settings = zarr.open_group(str(out), mode="r").attrs["napari_scanimage"]["settings"]
    assert settings["scan_phase"] == [list(scan.scan_phase(0))]
    other = read_scan(written.paths, join_contiguous=True, fix_scan_phase=0.5)
    with pytest.raises(ScanImageError, match="other settings"):
        other.to_zarr(out, chunk_frames=4)


def test_convert_command_fixes_the_scan_phase(write, tmp_path, capsys):
    written = write(ScanSpec(content="tissue", scan_phase=2.0, num_frames=4))
    out = tmp_path / "cli.zarr"
    assert main(["convert", str(written.paths[0]), "--out", str(out), "--fix-scan-phase"]) == 0
    expected = read_scan(written.paths, fix_scan_phase=True).read_field(0)
    np.testing.assert_array_equal(image_array(out, "0")[...], expected)
    out2 = tmp_path / "given.zarr"
    assert (
        main(["convert", str(written.paths[0]), "--out", str(out2), "--fix-scan-phase", "2"]) == 0
    )
    expected = read_scan(written.paths, fix_scan_phase=2.0).read_field(0)
    np.testing.assert_array_equal(image_array(out2, "0")[...], expected)


def test_a_file_without_a_size_in_um_exports_pixels_not_nan(tmp_path):
    import json

    from napari_scanimage.testing_legacy import LegacySpec, write_legacy_scan

    truth = write_legacy_scan(tmp_path, LegacySpec(generation="4.x", num_frames=3))
    scan = read_scan(truth.path)
    assert not scan.fields[0].pixel_size_known
    store = scan.to_zarr(tmp_path / "old.zarr")
    attrs = json.loads((store / "0" / ".zattrs").read_text())
    assert "nan" not in json.dumps(attrs["multiscales"]).lower()  # unknown stays unknown
    axes = attrs["multiscales"][0]["axes"]
    assert [a.get("unit") for a in axes[-2:]] == [None, None]
    assert attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"][
        -2:
    ] == [1.0, 1.0]
    xml = next(p for p in store.rglob("METADATA.ome.xml")).read_text()
    assert "PhysicalSizeX" not in xml
