"""One error path for every command: one line, a nonzero exit, never a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from napari_scanimage import cli
from napari_scanimage.cli import main
from napari_scanimage.export import command as export_command
from napari_scanimage.testing import ScanSpec


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def scan_file(write):
    return str(write(ScanSpec(num_frames=2)).paths[0])


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out.zarr"),
         "/mnt/ro/out.zarr: Read-only file system"),
        (OSError(errno.ENOSPC, "No space left on device", "/d/out.zarr/0/0/3"),
         "/d/out.zarr/0/0/3: No space left on device"),
        (FileExistsError(errno.EEXIST, "File exists", "/d/out.zarr"), "/d/out.zarr: File exists"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/d/file/x"),
         "/d/file/x: Not a directory"),
        (PermissionError(errno.EACCES, "Permission denied", "/d"), "/d: Permission denied"),
    ],
)  # fmt: skip
def test_os_errors_are_one_line(scan_file, tmp_path, capsys, monkeypatch, error, said):
    def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(export_command, "to_zarr", fail)
    status = main(["convert", scan_file, "--out", str(tmp_path / "o.zarr")])
    assert status == 2
    assert one_line(capsys.readouterr().err) == f"napari-scanimage: error: {said}"


def test_real_os_errors_from_the_filesystem(scan_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["summary", scan_file, "--out", str(blocker)]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"napari-scanimage: error: {blocker}")
    assert main(["convert", scan_file, "--out", str(blocker / "o.zarr")]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("napari-scanimage: error: ")
    assert str(blocker) in line


def test_ctrl_c_is_one_line_and_exit_130(scan_file, capsys, monkeypatch):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_info", interrupted)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["info"].set_defaults(run=interrupted)
    assert main(["info", scan_file]) == 130
    assert one_line(capsys.readouterr().err) == "napari-scanimage: interrupted"


def test_an_unreachable_scheduler_is_one_line(scan_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_command, "CONNECT_TIMEOUT", "1s")
    argv = ["convert", scan_file, "--out", str(tmp_path / "o.zarr"), "--scheduler"]
    assert main([*argv, "tcp://127.0.0.1:9"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(
        "napari-scanimage: error: cannot reach the dask scheduler at tcp://127.0.0.1:9"
    )


def test_a_closed_pipe_ends_quietly(scan_file):
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -1` that has already gone
    done = subprocess.run(
        [sys.executable, "-m", "napari_scanimage.cli", "info", "--json", scan_file],
        stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
    )  # fmt: skip
    os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


def test_warnings_print_once_without_a_source_line(write, tmp_path, capsys):
    written = write(ScanSpec(stack="fast", zs=(0.0, 1.0), num_frames=2, extra_pages=1))
    assert main(["summary", str(written.paths[0]), "--out", str(tmp_path / "qc")]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("napari-scanimage: warning:")]
    assert len(warned) == 1
    assert "dropped its 1 page" in warned[0]
    assert "cli.py" not in err
    assert "ScanImageWarning" not in err
