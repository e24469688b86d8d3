"""Faithful synthetic ScanImage (2016+) BigTIFF writer for tests and sample data.

The bytes follow ScanImage's own recipe (ScanImage format notes ``scanimage-format.md``,
§1 and §4.1): little-endian BigTIFF, the 16-byte static block header at byte 16, FrameData at
byte 32 and the RoiGroups JSON after it, then one IFD per page holding 18 sorted tags, a
space-padded fixed-size description slot and the pixel strips. Every page's Software/Artist
tags point at the shared FrameData/RoiGroups text.

The knobs mirror what real rigs write (``scanimage-format.md`` §9), not what a reader
might assume; each names the real recording it copies:

* ``channels=tuple(range(1, 15))`` with ``channels_available=14`` and
  ``channel_table_size=64``: a ScanImage 2023.1.0 light-beads (LBM) header, which saves
  14 channels (one per depth; LBM rigs save up to 30), lists 64 channel names, LUTs and
  ADC resolutions, and only 2 rows of channel offsets and input ranges.
* ``page_width=224`` for ROIs of 220 pixels, ``stale_num_slices=81``: the same LBM file,
  whose pages (``pixelsPerLine 224``) are wider than its two 220 x 550 ROIs (1116 rows
  with 16 fly-to lines), and whose disabled stack still says ``numSlices = 81``.
* ``stack='slow', volumes=3``: a ScanImage 2023.0 slow stack repeated three times
  (``numVolumes = actualNumVolumes = 3``, ``acquisitionNumbers`` 1..6, one per slice
  of each volume).
* ``stack='fast', flyback_frames=7`` with ``frames_per_file``: the real 10-file 2021.0
  fast-Z series with its discarded flyback frames still on disk.
* ``timestamp_rate``: a real 2021.0 fast-Z file whose pages' ``frameTimestamps_sec``
  advance far faster than its header's ``scanVolumeRate`` says.

:func:`write_scan` returns a :class:`WrittenScan` whose :class:`TruthField` arrays
hold exactly what a correct reader must return for every (depth, ROI) field.
"""

from __future__ import annotations

from napari_scanimage.testing._live import LiveWriter
from napari_scanimage.testing._specs import RoiSpec, ScanSpec, TruthField, WrittenScan
from napari_scanimage.testing._writer import write_scan

__all__ = ["LiveWriter", "RoiSpec", "ScanSpec", "TruthField", "WrittenScan", "write_scan"]
