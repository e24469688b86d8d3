"""Light-beads (LBM) scans with 14 to 30 channels and repeated slow stacks, in napari."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scanimage._napari._widget import ScanImageWidget
from napari_scanimage.scan.scan import read_scan
from napari_scanimage.testing import ScanSpec
from tests.scan.test_real_rigs import SLOW_2023, lbm


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def test_lbm_gives_one_layer_per_field_and_channel_showing_the_first(viewer, write):
    written = write(lbm(14, num_frames=2))
    viewer.open(str(written.paths[0]), plugin="napari-scanimage")
    assert len(viewer.layers) == 2 * 14
    names = [layer.name for layer in viewer.layers]
    assert names[0] == "scan_00001 · field 1 · ch 1"
    assert names[-1] == "scan_00001 · field 2 · ch 14"
    # 14 channels summed in gray would show nothing: only channel 1 is visible at first
    assert [layer.name for layer in viewer.layers if layer.visible] == [
        "scan_00001 · field 1 · ch 1",
        "scan_00001 · field 2 · ch 1",
    ]
    layer = viewer.layers["scan_00001 · field 2 · ch 14"]
    np.testing.assert_array_equal(np.asarray(layer.data[1]), written.fields[1].data[1, 13])
    pixel = 5 * 15 / 220  # µm: 5 degrees at 15 µm per degree over 220 pixels
    assert layer.scale[-1] == pytest.approx(pixel)
    assert layer.translate[-1] == pytest.approx(pixel / 2)  # strip 2 starts at x = 0 µm


def test_panel_stays_usable_with_30_channels(viewer, write):
    written = write(lbm(30, num_frames=2))
    widget = ScanImageWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.set_scan(read_scan(written.paths[0]))
    assert len(widget.display.channels.choices) == 30
    # a scrolling list, not a checkbox per channel down the dock
    widget.display.channels.native.show()
    assert widget.display.channels.native.height() < 200
    assert "channels 1-30" in widget.files.summary.value
    widget.display.channels.value = [0, 29]
    shown = {layer.metadata["napari_scanimage"]["channel"] for layer in viewer.layers}
    assert shown == {0, 29}


def test_repeated_slow_stack_layers_hold_every_volume(viewer, write):
    written = write(SLOW_2023)
    viewer.open(str(written.paths[0]), plugin="napari-scanimage")
    layer = viewer.layers[0]
    assert layer.data.shape == (6, 2, 48, 64)  # frames of all 3 volumes, 2 depths
    np.testing.assert_array_equal(np.asarray(layer.data[5, 1]), written.fields[1].data[5, 0])


def test_a_few_channels_stay_all_visible(viewer, write):
    written = write(ScanSpec(channels=(1, 2, 3, 4), num_frames=2))
    viewer.open(str(written.paths[0]), plugin="napari-scanimage")
    assert all(layer.visible for layer in viewer.layers)
