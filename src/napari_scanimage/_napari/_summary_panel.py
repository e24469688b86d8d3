"""Panel piece: summary (QC) images of the fields shown, computed in a worker thread.

*Summary images* reads every chosen field once (see
:mod:`napari_scanimage.scan.summary_images`) and adds image layers where the
field layers are, in µm, plus stitched mosaic layers for mROI scans.  Fields of
one kind and channel share one contrast range, so brightness steps at seams
show.  The work runs in napari's ``create_worker`` thread with a progress bar;
*Cancel* sets a flag the computation checks between chunks of frames.

The piece knows nothing of the main panel: it asks ``get_scan()`` for the scan
as shown (joining, trims, phase) and ``get_selection()`` for the chosen
(fields, channels).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, Container, Label, PushButton, Select

from napari_scanimage._napari._layers import (
    channel_colormap,
    grid_placement,
    layer_groups,
    layer_name,
    placement,
)
from napari_scanimage._napari._sections import limit_rows
from napari_scanimage.scan.display import contrast_range
from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.summary_images import (
    DEFAULT_CHUNK_FRAMES,
    KINDS,
    SummaryCancelledError,
    stitch_summaries,
    summary_images,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import napari

    from napari_scanimage.scan.scan import Scan

__all__ = ["SUMMARY_KEY", "SummaryImagesPanel", "summary_layer_data"]

SUMMARY_KEY = "napari_scanimage_summary"
"""Metadata key of summary layers; not the field layers' key, so the main panel leaves them."""

LayerData = tuple[np.ndarray, dict[str, Any], str]
Selection = tuple[list[int], list[int]]


def _still(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Placement kwargs without the frame axis: a summary image has no time."""
    return {key: value[1:] for key, value in kwargs.items()}


def summary_layer_data(
    scan: Scan,
    fields: Sequence[int],
    channels: Sequence[int],
    kinds: Sequence[str],
    *,
    stitched: bool = True,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    progress: Callable[[int, int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[LayerData]:
    """Image layer data of each field group's summary images, then the stitched ones.

    ``stitched`` adds one mosaic layer per kind and channel for mROI scans whose
    pixel sizes are known.  Raises ``SummaryCancelledError`` when cancelled.
    """
    total = scan.num_frames * len(fields) * len(channels)
    done = 0
    deep = scan.num_scanning_depths > 1
    groups = layer_groups(scan, fields)
    mosaic = None
    if stitched and scan.is_multiROI and all(scan.fields[f].pixel_size_known for f in fields):
        mosaic = Mosaic.of(scan, list(fields))
    layers: list[LayerData] = []
    for channel in channels:
        images: dict[int, dict[str, np.ndarray]] = {}
        for field in fields:

            def step(count: int, _total: int, before: int = done) -> None:
                if progress is not None:
                    progress(before + count, total)

            images[field] = summary_images(
                scan,
                field,
                channel,
                kinds,
                chunk_frames=chunk_frames,
                progress=step,
                cancel=cancel,
            )
            done += scan.num_frames
        limits = {k: _shared_contrast([i[k] for i in images.values()], k) for k in kinds}
        for group in groups:
            for kind in kinds:
                planes = [images[f.index][kind] for f in group.fields]
                data = np.stack(planes) if deep else planes[0]
                kwargs = _layer_kwargs(scan, channel, kind, limits[kind])
                kwargs["name"] = f"{layer_name(scan, group, channel)} · {kind}"
                kwargs["metadata"] = _metadata(
                    scan, [f.index for f in group.fields], channel, kind
                )
                kwargs.update(_still(placement(scan, group)))
                layers.append((data, kwargs, "image"))
        if mosaic is not None:
            layers.extend(_stitched(scan, mosaic, images, channel, kinds, limits))
    return layers


def _shared_contrast(images: list[np.ndarray], kind: str) -> tuple[float, float]:
    """One range for every field, so seams show; correlations from 0, so gaps stay dark."""
    low, high = contrast_range(np.concatenate([image.ravel() for image in images]))
    if kind == "correlation" and high > 0:
        low = max(low, 0.0)
    return low, high


def _stitched(
    scan: Scan,
    mosaic: Mosaic,
    images: dict[int, dict[str, np.ndarray]],
    channel: int,
    kinds: Sequence[str],
    limits: dict[str, tuple[float, float]],
) -> list[LayerData]:
    planes = [
        stitch_summaries(
            mosaic,
            depth,
            {p.field: images[p.field] for p in mosaic.placements.get(depth, [])},
            kinds,
        )
        for depth in mosaic.depths
    ]
    layers = []
    where = _still(
        grid_placement(scan, mosaic.top_left_um, mosaic.pixel_size_um, mosaic.depths[0])
    )
    for kind in kinds:
        data = (
            np.stack([p[kind] for p in planes])
            if scan.num_scanning_depths > 1
            else planes[0][kind]
        )
        kwargs = _layer_kwargs(scan, channel, kind, limits[kind])
        kwargs["name"] = (
            f"{acquisition_stem(scan.filenames)} · mosaic · ch {scan.channels[channel]} · {kind}"
        )
        fields = [p.field for d in mosaic.depths for p in mosaic.placements.get(d, [])]
        kwargs["metadata"] = _metadata(scan, fields, channel, kind, stitched=True)
        kwargs.update(where)
        layers.append((data, kwargs, "image"))
    return layers


def _layer_kwargs(
    scan: Scan, channel: int, kind: str, limits: tuple[float, float]
) -> dict[str, Any]:
    return {
        "colormap": channel_colormap(scan, channel),
        "blending": "additive",
        "contrast_limits": limits,
    }


def _metadata(
    scan: Scan, fields: list[int], channel: int, kind: str, *, stitched: bool = False
) -> dict[str, Any]:
    return {
        SUMMARY_KEY: {
            "files": scan.filenames,
            "fields": fields,
            "channel": channel,
            "kind": kind,
            "stitched": stitched,
            "join_contiguous": scan.join_contiguous,
            "trim": dataclasses.astuple(scan.trim),
        }
    }


class SummaryImagesPanel(Container):
    """*Summary images*: mean/max/std/correlation layers of the chosen fields."""

    def __init__(
        self,
        viewer: napari.viewer.Viewer,
        get_scan: Callable[[], Scan | None],
        get_selection: Callable[[], Selection] | None = None,
    ) -> None:
        super().__init__(labels=False)
        self._viewer = viewer
        self._get_scan = get_scan
        self._get_selection = get_selection
        self._cancelled = threading.Event()
        self._layers: dict[str, Any] = {}
        self.chunk_frames = DEFAULT_CHUNK_FRAMES
        self.worker: Any = None
        self._kinds = Select(label="", choices=list(KINDS), value=["mean"])
        self._kinds.tooltip = "Summary images to compute: any of mean, max, std, correlation"
        limit_rows(self._kinds, len(KINDS))  # one row per kind, no empty box below
        self._stitched = CheckBox(text="Stitched mosaic too (mROI scans)", value=True, label="")
        self._run = PushButton(text="Summary images", label="")
        self._cancel = PushButton(text="Cancel", label="", enabled=False)
        self._status = Label(value="", label="")
        self.extend([self._kinds, self._stitched, self._run, self._cancel, self._status])
        self._run.changed.connect(self.start)
        self._cancel.changed.connect(self.cancel)

    @property
    def status(self) -> str:
        """The piece's last message (done, cancelled, nothing to do)."""
        return str(self._status.value)

    def _selection(self, scan: Scan) -> Selection:
        if self._get_selection is None:
            return list(range(scan.num_fields)), list(range(scan.num_channels))
        fields, channels = self._get_selection()
        return sorted(fields), sorted(channels)

    def start(self) -> None:
        """Compute the chosen kinds in a worker; layers appear when it returns."""
        scan = self._get_scan()
        if scan is None:
            self._status.value = "No ScanImage scan open."
            return
        fields, channels = self._selection(scan)
        kinds = [k for k in KINDS if k in self._kinds.value]
        if not fields or not channels or not kinds:
            self._status.value = "Choose fields, channels and a kind."
            return
        from napari.qt.threading import create_worker  # noqa: PLC0415 - Qt on demand
        from napari.utils import progress  # noqa: PLC0415
        from superqt.utils import ensure_main_thread  # noqa: PLC0415

        bar = progress(total=scan.num_frames * len(fields) * len(channels), desc="Summary images")

        @ensure_main_thread
        def report(done: int, total: int) -> None:
            bar.update(done - bar.n)

        def work() -> list[LayerData] | None:
            try:
                return summary_layer_data(
                    scan, fields, channels, kinds,
                    stitched=bool(self._stitched.value), chunk_frames=self.chunk_frames,
                    progress=report, cancel=self._cancelled.is_set,
                )  # fmt: skip
            except SummaryCancelledError:
                return None

        self._cancelled.clear()
        self._run.enabled, self._cancel.enabled = False, True
        self._status.value = "Computing ..."
        worker = create_worker(work)
        worker.pbar = bar
        worker.returned.connect(self._show)
        worker.errored.connect(self._failed)
        worker.finished.connect(bar.close)
        worker.finished.connect(self._finished)
        self.worker = worker
        worker.start()

    def cancel(self) -> None:
        """Ask the running computation to stop after its current chunk."""
        self._cancelled.set()

    def _finished(self) -> None:
        self._run.enabled, self._cancel.enabled = True, False

    def _failed(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error  # noqa: PLC0415

        self._status.value = f"Failed: {exc}"
        show_error(str(exc))

    def _show(self, layers: list[LayerData] | None) -> None:
        if layers is None:
            self._status.value = "Cancelled."
            return
        first_kind = layers[0][1]["metadata"][SUMMARY_KEY]["kind"] if layers else None
        for data, kwargs, _ in layers:
            info = kwargs["metadata"][SUMMARY_KEY]
            visible = info["kind"] == first_kind and not info["stitched"]
            layer = self._layers.get(kwargs["name"])
            if layer is None or layer not in self._viewer.layers:
                self._layers[kwargs["name"]] = self._viewer.add_image(
                    data, visible=visible, **kwargs
                )
                continue
            layer.data = data
            for key in ("scale", "translate", "contrast_limits", "metadata"):
                setattr(layer, key, kwargs[key])
        self._status.value = f"{len(layers)} summary layers."
