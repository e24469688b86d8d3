"""A file cut short under an open viewer: our error or a notification, and napari keeps going."""

from __future__ import annotations

import os

import numpy as np
import tifffile
from napari.utils.notifications import notification_manager

from napari_scanimage import ScanImageError
from napari_scanimage.testing import ScanSpec


def test_truncating_the_file_under_the_viewer_is_survivable(make_napari_viewer, write):
    written = write(ScanSpec(num_frames=6))
    path = written.paths[0]
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-scanimage")
    (layer,) = viewer.layers
    with tifffile.TiffFile(path) as tif:
        cut = tif.pages[3].offset  # frames 0-2 stay whole
    os.truncate(path, cut)

    received = []
    notification_manager.notification_ready.connect(received.append)
    try:
        try:
            viewer.dims.set_point(0, 5)  # step the frame slider to a lost frame
        except ScanImageError as exc:  # napari handed our error on (synchronous slicing)
            said = [str(exc)]
        else:
            said = [str(n.message) for n in received]
    finally:
        notification_manager.notification_ready.disconnect(received.append)
    assert any(str(path) in text and "shrank from" in text for text in said), said

    # The viewer keeps running and frames still on disk still show.
    viewer.dims.set_point(0, 1)
    assert viewer.dims.point[0] == 1
    np.testing.assert_array_equal(np.asarray(layer.data[1]), written.fields[0].data[1, 0])
