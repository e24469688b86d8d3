"""What the package and its light commands import: nothing heavy before it is needed.

Every CLI run is a new process, so an import the command does not need is paid
on every run (numba alone ~0.3-1.6 s).  A behavioural check, not a timing:
fresh interpreters run the code and list the heavy modules they loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from napari_scanimage.testing import RoiSpec, ScanSpec

SRC = Path(__file__).resolve().parents[1] / "src"

# Top-level packages no read, index or `info` needs.
NEVER_FOR_READING = (
    "numba", "llvmlite", "napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6",
    "distributed", "dask", "zarr", "tqdm", "PIL", "tifffile", "scipy", "pynwb", "h5py",
    "fsspec", "s3fs", "aiohttp", "aiobotocore", "botocore", "gcsfs",  # only for URLs
)  # fmt: skip


def loaded_after(code: str, *args: str) -> set[str]:
    """Top-level modules a fresh interpreter has loaded after running ``code``."""
    script = (
        f"import sys, json\nsys.argv[1:] = {list(args)!r}\n{code}\n"
        "print('\\n' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def scan_files(tmp_path_factory):
    from napari_scanimage.testing import write_scan

    folder = tmp_path_factory.mktemp("startup")
    rois = (RoiSpec(pixels_xy=(16, 12)), RoiSpec(name="b", center_xy=(9.0, 0.0)))
    written = write_scan(folder, ScanSpec(rois=rois, channels=(1, 2), num_frames=5))
    return [str(p) for p in written.paths]


def test_importing_the_package_loads_nothing_heavy():
    loaded = loaded_after("import napari_scanimage")
    assert not loaded & set(NEVER_FOR_READING)


def test_reading_indexing_and_info_load_nothing_heavy(scan_files):
    code = (
        "import napari_scanimage\n"
        "from napari_scanimage.cli import main\n"
        "scan = napari_scanimage.read_scan(sys.argv[1:])\n"
        "frame = scan[0, :, :, 1, -1]\n"
        "block = scan.read_field(1, frames=[0, 2])\n"
        "assert frame.shape == (scan.field_heights[0], scan.field_widths[0])\n"
        "assert main(['info', *sys.argv[1:]]) == 0\n"
        "assert main(['info', '--json', *sys.argv[1:]]) == 0\n"
    )
    loaded = loaded_after(code, *scan_files)
    assert not loaded & set(NEVER_FOR_READING)


def test_the_version_is_there_when_asked():
    import napari_scanimage

    assert isinstance(napari_scanimage.__version__, str)
    assert napari_scanimage.__version__
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = napari_scanimage.nonsense


def test_a_summary_with_the_kernel_off_loads_numba_only_then(scan_files):
    code = (
        "import napari_scanimage\n"
        "scan = napari_scanimage.read_scan(sys.argv[1:])\n"
        "before = 'numba' in sys.modules\n"
        "scan.summary_image(0, kind='std')\n"
        "assert not before and 'numba' in sys.modules\n"
    )
    loaded = loaded_after(code, *scan_files)  # the tests run with compiled kernels off
    assert "numba" in loaded
    assert not loaded & {"napari", "qtpy", "distributed", "dask", "zarr", "tifffile"}


def test_convert_does_not_load_dask_distributed(scan_files, tmp_path):
    out = tmp_path / "out.zarr"
    code = "from napari_scanimage.cli import main\nassert main(sys.argv[1:]) == 0\n"
    loaded = loaded_after(code, "convert", *scan_files, "-o", str(out))
    assert (out / "zarr.json").exists() or (out / ".zgroup").exists()
    assert {"zarr", "dask"} <= loaded  # what it needs to write
    assert not loaded & {"distributed", "numba", "napari", "qtpy", "tifffile", "PIL"}


def test_summary_does_not_load_the_zarr_export(scan_files, tmp_path):
    code = "from napari_scanimage.cli import main\nassert main(sys.argv[1:]) == 0\n"
    loaded = loaded_after(code, "summary", *scan_files, "--out", str(tmp_path), "--kind", "mean")
    assert list(tmp_path.glob("*.tif"))
    assert not loaded & {"zarr", "dask", "distributed", "napari", "qtpy"}
