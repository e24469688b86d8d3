"""GUI-test fixtures: no worker thread may outlive the test that started it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _wait_for_workers():
    """Join napari/superqt worker threads (file opening, Zarr saving) before teardown.

    A worker still running while pytest-qt closes the viewer can crash the whole
    process later, in an unrelated test.
    """
    yield
    from superqt.utils._qthreading import WorkerBase

    WorkerBase.await_workers(msecs=60_000)


@pytest.fixture
def launch(make_napari_viewer, monkeypatch):
    """``open_viewer`` (the ``view`` command) on napari's test viewers.

    Plain ``napari.Viewer()`` twice in one test session registers our plugin's
    commands twice; ``make_napari_viewer`` resets that and closes the viewer.
    """
    import napari

    from napari_scanimage._napari._launch import open_viewer

    monkeypatch.setattr(napari, "Viewer", lambda show=False: make_napari_viewer(show=show))
    return open_viewer
