"""Following a split recording: files finished and started while a refresh runs.

ScanImage finishes a file, then starts the next.  A poll that grows the last
file and then lists newer ones can see the next file while the last one was
indexed only in part; appending it then shifts every later page into the wrong
frame.  These tests move the writer on *inside* ``refresh`` (between any two of
its steps) and from another thread, and check every counted frame against the
truth after every poll.
"""

from __future__ import annotations

import random
import threading
import time
import warnings

import numpy as np
import pytest

from napari_scanimage import ScanImageError, ScanImageWarning
from napari_scanimage.errors import TruncatedFileError
from napari_scanimage.format.page_reader import PageReader
from napari_scanimage.scan import source as source_module
from napari_scanimage.scan.scan import Scan
from napari_scanimage.scan.source import ScanSource
from napari_scanimage.testing import LiveWriter, ScanSpec, write_scan

SPLIT = ScanSpec(num_frames=8, channels=(1, 2), frames_per_file=4, description_slot=400)


def open_live(paths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScanImageWarning)
        return ScanSource.open([str(p) for p in paths])


def check_every_frame(scan, truth):
    """All frames counted so far read as written, with their own frame numbers."""
    n = scan.num_frames
    np.testing.assert_array_equal(scan.read_field(0), truth[:n])
    assert scan.frame_numbers(0).tolist() == list(range(1, n + 1))


def patch_step(patch, step, before):
    """Run ``before()`` just before one step of ``ScanSource.refresh``."""
    if step == "grow":
        grow = PageReader.refresh
        patch.setattr(PageReader, "refresh", lambda self: (before(), grow(self))[1])
    else:
        real = getattr(source_module, step)
        patch.setattr(source_module, step, lambda *args: (before(), real(*args))[1])


def test_the_issue_case_a_file_finished_between_the_steps_of_one_refresh(tmp_path, monkeypatch):
    """2 channels, 8 frames, 4 per file; file 1 70 % written, the rest during one refresh."""
    written = write_scan(tmp_path, SPLIT)
    folder = tmp_path / "live"
    folder.mkdir()
    live = LiveWriter(written, folder)
    live.write_to(int(live.sizes[0] * 0.7))
    source = open_live(live.targets[:1])
    scan = Scan(source)
    truth = written.fields[0].data
    check_every_frame(scan, truth)
    for step in ("_later_files", "grow", "_open_one"):  # the writer finishes at each step
        with monkeypatch.context() as patch:
            patch_step(patch, step, lambda: live.write_to(live.total))
            scan.refresh()
        check_every_frame(scan, truth)
    scan.refresh()
    assert scan.num_frames == 8
    check_every_frame(scan, truth)


@pytest.mark.parametrize("seed", range(40))
def test_any_interleaving_of_writer_and_poller_reads_right(tmp_path, monkeypatch, seed):
    """Random write sizes, injected between every step of refresh: 0 wrong reads."""
    rng = random.Random(seed)
    spec = ScanSpec(
        num_frames=rng.choice([5, 7, 9]),
        channels=rng.choice([(1,), (1, 2), (1, 2, 3)]),
        frames_per_file=rng.choice([1, 2, 3]),
        rois=SPLIT.rois,
        description_slot=400,
        seed=seed,
    )
    written = write_scan(tmp_path, spec)
    folder = tmp_path / "live"
    folder.mkdir()
    live = LiveWriter(written, folder)
    truth = written.fields[0].data

    def advance(*_):
        if rng.random() < 0.5:
            live.write_to(live.position + rng.randint(1, live.total // 20))

    for step in ("_later_files", "grow", "_open_one"):
        patch_step(monkeypatch, step, advance)
    while True:  # the first file holds a frame before anyone opens it
        live.write_to(live.position + rng.randint(1, live.total // 8))
        try:
            source = open_live(live.targets[:1])
            scan = Scan(source)
            break
        except ScanImageError:  # not one complete frame on disk yet
            continue
    polls = 0
    while scan.num_frames < spec.num_frames:
        advance()
        scan.refresh()
        polls += 1
        check_every_frame(scan, truth)
        if live.position >= live.total and polls > 1000:
            break
    live.write_to(live.total)
    scan.refresh()
    assert scan.num_frames == spec.num_frames
    check_every_frame(scan, truth)


def test_a_writer_thread_against_a_polling_reader(tmp_path):
    """Real threads: ScanImage's pace against napari's poller, thousands of polls."""
    written = write_scan(tmp_path, SPLIT)
    truth = written.fields[0].data
    polls = wrong = 0
    for seed in range(60):  # recordings until a thousand polls have checked reads
        if polls >= 1000:
            break
        folder = tmp_path / f"live{seed}"
        folder.mkdir()
        live = LiveWriter(written, folder)
        live.write_to(live.sizes[0] // 2)
        rng = random.Random(seed)
        source = open_live(live.targets[:1])
        scan = Scan(source)
        done = threading.Event()

        def write(live=live, rng=rng, done=done):
            while live.position < live.total:
                live.write_to(live.position + rng.randint(1, 1500))
                time.sleep(0.0002)  # let the poller in, as ScanImage's frame clock does
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        while not done.is_set() or scan.num_frames < 8:
            scan.refresh()
            polls += 1
            n = scan.num_frames
            wrong += int(not np.array_equal(scan.read_field(0), truth[:n]))
            if done.is_set():
                scan.refresh()
        thread.join()
        assert scan.num_frames == 8
    assert polls >= 1000
    assert wrong == 0


def test_a_series_whose_middle_file_ends_inside_a_frame_is_refused(tmp_path):
    written = write_scan(tmp_path, SPLIT)
    first = written.paths[0]
    size = first.stat().st_size
    with open(first, "r+b") as fh:  # file 1 loses the last page of its last frame
        fh.truncate(size - 10)
    with pytest.raises(TruncatedFileError, match=r"scan_00001_00001\.tif: ends inside a frame"):
        open_live(written.paths)
