r"""Export a scan to NWB (Neurodata Without Borders): :func:`to_nwb`, or ``convert --out X.nwb``.

NWB is what the DANDI archive takes and what suite2p (``input_format = "nwb"``)
and CaImAn read.  One ``TwoPhotonSeries`` per field and channel, each with an
``ImagingPlane`` at the field's µm position, so an mROI recording keeps its
ROIs side by side.  Needs the ``nwb`` extra (pynwb, hdmf, PyYAML), imported
only here.  How the parts fit, in the order an export uses them:

- ``requires``: the one error when the ``nwb`` extra is not installed.
- ``metadata``: the user's YAML (neuroconv's layout), checked key by key.
- ``plan``: which series, their names, chunks and write buffers (no pynwb).
- ``clock``: ``session_start_time`` from ScanImage's ``epoch`` and the time-zone rule.
- ``timing``: each field's own frame timestamps, or a rate.
- ``header``: the whole ScanImage header kept in ``data_collection``, read back exactly.
- ``planes``: the ``Device`` and one ``ImagingPlane`` (with ``OpticalChannel``\ s) per field.
- ``frames``: the hdmf data-chunk iterator that streams a series from ``Scan.read_field``.
- ``build``: the ``NWBFile`` with all of the above.
- ``write``: :func:`to_nwb`: a temporary file, renamed only when complete.
- ``read``: an NWB file's series for ``napari-scanimage info``, and the resume check.
- ``batch``: many acquisitions to ``DIR/<stem>.nwb``, with the Zarr batch's summary.
"""

from __future__ import annotations

from napari_scanimage.export.nwb.batch import convert_nwb_batch
from napari_scanimage.export.nwb.header import header_bytes, read_header_record
from napari_scanimage.export.nwb.metadata import NwbMetadata, load_metadata
from napari_scanimage.export.nwb.plan import NwbPlan, series_name
from napari_scanimage.export.nwb.read import format_nwb_info, nwb_info, written_by_us
from napari_scanimage.export.nwb.write import to_nwb

__all__ = [
    "NwbMetadata",
    "NwbPlan",
    "convert_nwb_batch",
    "format_nwb_info",
    "header_bytes",
    "load_metadata",
    "nwb_info",
    "read_header_record",
    "series_name",
    "to_nwb",
    "written_by_us",
]
