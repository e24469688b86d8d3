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
