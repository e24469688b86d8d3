"""Dock widget: a scan's summary and live choice of fields, channels, joining, trims.

The widget's lists are filled from the scan it manages, never from napari's
layer list: napari calls ``reset_choices`` whenever layers change, and choices
given as a callable on the scan survive that.  Layers are updated in place
(data, name, position), so a user's contrast and colormap stay where the field
still exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.types import FileDialogMode
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    PushButton,
    Select,
    SpinBox,
)

from napari_scanimage._napari._layers import (
    METADATA_KEY,
    LayerGroup,
    estimate_contrast,
    layer_data,
    layer_groups,
    mosaic_layer_data,
    outline_layer_data,
)
from napari_scanimage._napari._preferences import set_default_reader
from napari_scanimage.errors import ScanImageError
from napari_scanimage.scan.fields import Trim
from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.scan.scan import Scan, read_scan
from napari_scanimage.scan.seams import check_seams
from napari_scanimage.summary import format_short_summary, summarize

if TYPE_CHECKING:
    import napari

    from napari_scanimage.scan.phase import PhaseOption

__all__ = ["ScanImageWidget"]

LayerKey = tuple[tuple[int, ...], int, int]  # (ROI ids, first depth, channel)
MAX_TRIM = 4096


def _key(group: LayerGroup, channel: int) -> LayerKey:
    first = group.fields[0]
    return (first.roi_ids, first.depth_index, channel)


def _scan_info(layer: Any) -> dict[str, Any] | None:
    """The napari-scanimage record in a layer's metadata, if it has one."""
    metadata = getattr(layer, "metadata", None)
    info = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return info if isinstance(info, dict) else None


def _edge_hint(contrast: float) -> str:
    # Tissue alone moves the ratio by about +-30 % (measured 0.8-1.34 on synthetic
    # tissue); untrimmed turnaround edges give 0.2-0.3.
    if contrast < 0.7:
        return " (dim edges: trim more)"
    if contrast > 1.4:
        return " (bright edges: trim more)"
    return ""


class ScanImageWidget(Container):
    """Summary and display options of one ScanImage acquisition in the viewer."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__(labels=True)
        self._viewer = viewer
        self._base: Scan | None = None  # the scan as opened (no joining, no trims)
        self._scan: Scan | None = None  # with the widget's joining and trims
        self._layers: dict[LayerKey, Any] = {}
        self._quiet = False  # True while the widget sets its own values

        self._summary = Label(value="No ScanImage scan open.", label="Scan")
        self._files = FileEdit(
            mode=FileDialogMode.EXISTING_FILES, label="Files", filter="*.tif *.tiff"
        )
        self._open = PushButton(text="Open scan", label="")
        self._fields = Select(label="Fields", choices=self._field_choices)
        self._channels = Select(label="Channels", choices=self._channel_choices)
        self._join = CheckBox(text="Join contiguous ROIs", value=False, label="")
        self._trims = {
            side: SpinBox(label=f"Trim {side}", min=0, max=MAX_TRIM, value=0)
            for side in ("left", "right", "top", "bottom")
        }
        self._phase = CheckBox(text="Correct bidirectional scan phase", value=False, label="")
        self._phase_info = Label(value="", label="Phase (px)")
        self._phase_field = ComboBox(label="Set phase of", choices=self._field_choices)
        self._phase_value = FloatSpinBox(label="to (px)", min=-20.0, max=20.0, step=0.05)
        self._phase_set = PushButton(text="Set offset", label="")
        self._phase_overrides: dict[int, float] = {}
        self._mosaic = CheckBox(text="Stitched mosaic (one layer per channel)", label="")
        self._outlines = CheckBox(text="Show ROI outlines", value=False, label="")
        self._seams = PushButton(text="Check seams", label="")
        self._seams_info = Label(value="", label="Seams")
        self._outline_layer: Any = None
        self._zarr_path = FileEdit(
            mode=FileDialogMode.OPTIONAL_FILE, label="Zarr store", filter="*.zarr"
        )
        self._save = PushButton(text="Save as OME-Zarr (as shown: fields, trims, phase)", label="")
        self.export_worker: Any = None
        self._default_reader = PushButton(
            text="Open ScanImage files with this plugin by default", label=""
        )
        self.extend(
            [
                self._summary,
                self._files,
                self._open,
                self._fields,
                self._channels,
                self._join,
                *self._trims.values(),
                self._phase,
                self._phase_info,
                self._phase_field,
                self._phase_value,
                self._phase_set,
                self._mosaic,
                self._outlines,
                self._seams,
                self._seams_info,
                self._zarr_path,
                self._save,
                self._default_reader,
            ]
        )
        self._phase_set.changed.connect(self._set_phase_override)
        self._seams.changed.connect(self._check_seams)
        self._save.changed.connect(self._save_as_zarr)
        self._default_reader.changed.connect(self._set_default_reader)
        self._open.changed.connect(self._open_files)
        options = (self._fields, self._channels, self._join, *self._trims.values())
        for widget in (*options, self._phase, self._mosaic, self._outlines):
            widget.changed.connect(self._on_option_changed)
        viewer.layers.events.inserted.connect(self._on_layer_inserted)
        viewer.layers.events.removed.connect(self._on_layer_removed)
        for layer in list(viewer.layers):
            self._adopt_from(layer)

    # -- choices come from the scan, so reset_choices() cannot empty them -----------

    def _field_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        if self._scan is None:
            return []
        return [
            # Labels must not change with trims: Qt lists keep a selection by label.
            (f"{f.index + 1}: {' + '.join(f.roi_names)} (z {f.depth:g} µm)", f.index)
            for f in self._scan.fields
        ]

    def _channel_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        if self._scan is None:
            return []
        return [(f"channel {number}", i) for i, number in enumerate(self._scan.channels)]

    # -- public state --------------------------------------------------------------

    @property
    def scan(self) -> Scan | None:
        """The scan as currently displayed (joining and trims applied)."""
        return self._scan

    @property
    def trim(self) -> Trim:
        """The trims set in the widget."""
        return Trim(**{side: int(w.value) for side, w in self._trims.items()})

    def set_scan(self, scan: Scan, *, add_layers: bool = True) -> None:
        """Manage ``scan``: fill the lists, and add its layers unless they exist."""
        self._base = scan.with_options(join_contiguous=False, trim=Trim(), fix_scan_phase=False)
        self._layers = {}
        self._outline_layer = None
        self._phase_overrides = {}  # keyed by the previous scan's field numbers
        self._quiet = True
        try:
            self._phase.value = scan.fix_scan_phase is not False
            self._join.value = scan.join_contiguous
            for side, widget in self._trims.items():
                widget.value = getattr(scan.trim, side)
            self._scan = scan
            self._fields.reset_choices()
            self._channels.reset_choices()
            self._fields.value = [f.index for f in scan.fields]
            self._channels.value = list(range(scan.num_channels))
            self._summary.value = format_short_summary(summarize(scan))
            self._phase_info.value = self._phase_text(scan)
            self._seams_info.value = ""
        finally:
            self._quiet = False
        for layer in self._viewer.layers:
            self._claim(layer)
        if add_layers:
            self._sync_layers()

    # -- opening --------------------------------------------------------------------

    def _open_files(self) -> None:
        value = self._files.value
        paths = [str(p) for p in value] if isinstance(value, tuple | list) else [str(value)]
        if not paths:
            return
        from napari.qt.threading import create_worker  # noqa: PLC0415 - Qt on demand

        phase = self._phase_option()

        def work() -> Scan:
            return read_scan(
                paths, join_contiguous=self._join.value, trim=self.trim, fix_scan_phase=phase
            )

        worker = create_worker(work, _progress={"desc": "Opening ScanImage files"})
        worker.returned.connect(self.set_scan)
        worker.errored.connect(self._show_error)
        worker.start()

    def _set_default_reader(self) -> None:
        from napari.utils.notifications import show_info  # noqa: PLC0415

        changes = set_default_reader()
        listing = ", ".join(f"{pattern} -> {plugin}" for pattern, plugin in changes.items())
        show_info(f"Reader preferences saved: {listing}" if changes else "Already the default.")

    def _show_error(self, exc: BaseException) -> None:
        from napari.utils.notifications import show_error  # noqa: PLC0415

        show_error(str(exc))

    # -- following the viewer -------------------------------------------------------

    def _adopt_from(self, layer: Any) -> None:
        """Take over the scan of a layer the reader added, if it is a new scan."""
        info = _scan_info(layer)
        if not info:
            return
        if self._scan is not None and info["files"] == self._scan.filenames:
            self._claim(layer)
            return
        try:
            scan = read_scan(
                info["files"],
                join_contiguous=bool(info.get("join_contiguous", False)),
                trim=tuple(info.get("trim", (0, 0, 0, 0))),
            )
        except (ScanImageError, OSError) as exc:
            self._show_error(exc)
            return
        self.set_scan(scan, add_layers=False)

    def _claim(self, layer: Any) -> None:
        info = _scan_info(layer)
        if not info or self._scan is None or info["files"] != self._scan.filenames:
            return
        kind = info.get("kind", "field")
        if kind in ("outlines", "mosaic"):
            # the panel shows what the viewer shows: tick the box that made this layer
            quiet, self._quiet = self._quiet, True
            try:
                if kind == "outlines":
                    self._outline_layer = layer
                    self._outlines.value = True
                else:
                    self._layers[((), -1, info["channel"])] = layer
                    self._mosaic.value = True
            finally:
                self._quiet = quiet
            return
        fields = [self._scan.fields[i] for i in info["fields"] if i < self._scan.num_fields]
        if fields:
            key = (fields[0].roi_ids, fields[0].depth_index, info["channel"])
            self._layers[key] = layer

    def _on_layer_inserted(self, event: Any) -> None:
        if not self._quiet:
            self._adopt_from(event.value)

    def _on_layer_removed(self, event: Any) -> None:
        self._layers = {k: v for k, v in self._layers.items() if v is not event.value}

    # -- options --------------------------------------------------------------------

    def _on_option_changed(self, *_: Any) -> None:
        if self._quiet or self._base is None:
            return
        join_changed = self._scan is None or self._join.value != self._scan.join_contiguous
        if join_changed:
            self._phase_overrides = {}
        try:
            scan = self._base.with_options(
                join_contiguous=self._join.value,
                trim=self.trim,
                fix_scan_phase=self._phase_option(),
            )
        except ScanImageError as exc:
            self._show_error(exc)
            return
        if join_changed and self._scan is not None:
            self._carry_field_selection(scan)
        self._scan = scan
        self._summary.value = format_short_summary(summarize(scan))
        self._phase_info.value = self._phase_text(scan)
        self._sync_layers()

    def _carry_field_selection(self, scan: Scan) -> None:
        """Keep fields selected whose ROIs were selected before joining changed."""
        assert self._scan is not None
        chosen = {
            (roi, self._scan.fields[i].depth_index)
            for i in self._fields.value
            for roi in self._scan.fields[i].roi_ids
        }
        self._quiet = True
        try:
            old = self._scan
            self._scan = scan
            self._fields.reset_choices()
            self._fields.value = [
                f.index
                for f in scan.fields
                if any((roi, f.depth_index) in chosen for roi in f.roi_ids)
            ]
            self._scan = old
        finally:
            self._quiet = False

    # -- quality control ------------------------------------------------------------

    def _phase_option(self) -> PhaseOption:
        """Off, or estimated per ROI with the user's overrides on top."""
        if not self._phase.value:
            return False
        return dict(self._phase_overrides) if self._phase_overrides else True

    def _phase_text(self, scan: Scan) -> str:
        if not self._phase.value:
            return "not corrected"
        lines = []
        for f in scan.fields:
            offsets = ", ".join(f"{o:+.2f}" for o in scan.scan_phase(f.index))
            mark = " (set)" if f.index in self._phase_overrides else ""
            lines.append(f"field {f.index + 1}: {offsets}{mark}")
        return "\n".join(lines)

    def _set_phase_override(self) -> None:
        field = self._phase_field.value
        if field is None or self._scan is None:
            return
        self._phase_overrides[int(field)] = float(self._phase_value.value)
        self._quiet = True
        try:
            self._phase.value = True
        finally:
            self._quiet = False
        self._on_option_changed()

    def _check_seams(self) -> None:
        if self._scan is None:
            return
        joined = self._scan
        if not joined.join_contiguous:
            # overrides are keyed by the unjoined fields: estimate every joined ROI instead
            joined = joined.with_options(join_contiguous=True, fix_scan_phase=self._phase.value)
        seams = check_seams(joined)
        if not seams:
            self._seams_info.value = "no touching ROIs"
            return
        self._seams_info.value = "\n".join(
            f"{s.left} | {s.right} (z {joined.fields[s.field].depth:g}): step x{s.ratio:.2f}, "
            f"edges x{s.edge_contrast:.2f}{_edge_hint(s.edge_contrast)}"
            for s in seams
        )

    def _save_as_zarr(self) -> None:
        """Convert the scan as shown (fields, channels, joining, trims, phase) in a worker."""
        if self._scan is None:
            return
        from napari.utils.notifications import show_info  # noqa: PLC0415

        from napari_scanimage._napari._export import save_as_zarr  # noqa: PLC0415

        chosen = str(self._zarr_path.value or "")
        if chosen in ("", "."):
            folder = Path(self._scan.filenames[0]).parent
            chosen = str(folder / f"{acquisition_stem(self._scan.filenames)}.zarr")
        worker = save_as_zarr(
            self._scan,
            chosen,
            fields=sorted(self._fields.value),
            channels=sorted(self._channels.value),
        )
        worker.returned.connect(lambda path: show_info(f"Saved {path}"))
        worker.errored.connect(self._show_error)
        self.export_worker = worker

    def _sync_outlines(self, fields: list[int]) -> None:
        if self._outline_layer is not None and self._outline_layer in self._viewer.layers:
            self._viewer.layers.remove(self._outline_layer)
        self._outline_layer = None
        if self._outlines.value and self._scan is not None and fields:
            data, kwargs, _ = outline_layer_data(self._scan, fields)
            self._outline_layer = self._viewer.add_shapes(data, **kwargs)

    def _sync_layers(self) -> None:
        """Add, update in place, or remove layers to match the widget's choices."""
        scan = self._scan
        if scan is None:
            return
        fields = sorted(self._fields.value)
        channels = sorted(self._channels.value)
        wanted: dict[LayerKey, tuple[Any, dict[str, Any], str]] = {}
        if self._mosaic.value and fields:
            mosaics = mosaic_layer_data(scan, fields=fields, channels=channels, contrast=False)
            wanted = {((), -1, c): mosaic for c, mosaic in zip(channels, mosaics, strict=True)}
        else:
            groups = layer_groups(scan, fields)
            for (data, kwargs, kind), (group, channel) in zip(
                layer_data(scan, fields=fields, channels=channels, contrast=False),
                [(g, c) for g in groups for c in channels],
                strict=True,
            ):
                wanted[_key(group, channel)] = (data, kwargs, kind)
        self._quiet = True
        try:
            for key in [k for k in self._layers if k not in wanted]:
                layer = self._layers.pop(key)
                if layer in self._viewer.layers:
                    self._viewer.layers.remove(layer)
            for key, (data, kwargs, _) in wanted.items():
                layer = self._layers.get(key)
                if layer is None or layer not in self._viewer.layers:
                    kwargs.setdefault("contrast_limits", estimate_contrast(data))
                    self._layers[key] = self._viewer.add_image(data, **kwargs)
                    continue
                layer.data = data
                layer.scale = kwargs["scale"]
                layer.translate = kwargs["translate"]
                layer.name = kwargs["name"]
                layer.metadata = kwargs["metadata"]
            self._sync_outlines(fields)
        finally:
            self._quiet = False
