"""Panel section *Stitching QC*: scan-phase correction, stitched mosaic, outlines, seams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, Label, PushButton

from napari_scanimage.scan.seams import check_seams

if TYPE_CHECKING:
    from napari_scanimage._napari._host import PanelHost
    from napari_scanimage.scan.phase import PhaseOption
    from napari_scanimage.scan.scan import Scan

__all__ = ["StitchingPanel", "edge_hint"]


def edge_hint(contrast: float) -> str:
    """What a seam's edge contrast suggests doing."""
    # Tissue alone moves the ratio by about +-30 % (measured 0.8-1.34 on synthetic
    # tissue); untrimmed turnaround edges give 0.2-0.3.
    if contrast < 0.7:
        return " (dim edges: trim more)"
    if contrast > 1.4:
        return " (bright edges: trim more)"
    return ""


class StitchingPanel(Container):
    """Checks that mROI strips were stitched right, and the views that show it."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(labels=True)
        self._host = host
        self.phase = CheckBox(text="Correct bidirectional scan phase", value=False, label="")
        self.phase_info = Label(value="", label="Phase (px)")
        self.phase_field = ComboBox(label="Field", choices=host.field_choices)
        self.phase_field.tooltip = "The field whose scan-phase offset Set offset sets"
        self.phase_value = FloatSpinBox(label="to (px)", min=-20.0, max=20.0, step=0.05)
        self.phase_set = PushButton(text="Set offset", label="")
        self.overrides: dict[int, float] = {}
        """Offsets the user set, by field of the scan shown."""
        self.mosaic = CheckBox(text="Stitched mosaic", label="")
        self.mosaic.tooltip = "One layer per channel and depth with every ROI at its place"
        self.outlines = CheckBox(text="Show ROI outlines", value=False, label="")
        self.seams = PushButton(text="Check seams", label="")
        self.seams_info = Label(value="", label="Seams")
        self.extend(
            [
                self.phase,
                self.phase_info,
                self.phase_field,
                self.phase_value,
                self.phase_set,
                self.mosaic,
                self.outlines,
                self.seams,
                self.seams_info,
            ]
        )
        self.phase_set.changed.connect(self._set_override)
        self.seams.changed.connect(self._check_seams)
        for widget in (self.phase, self.mosaic, self.outlines):
            widget.changed.connect(host.apply_options)

    def load(self, scan: Scan) -> None:
        """Take ``scan``'s phase option; forget overrides and seam results of another scan."""
        self.overrides = {}
        self.phase.value = scan.fix_scan_phase is not False
        self.seams_info.value = ""

    def phase_option(self) -> PhaseOption:
        """Off, or estimated per ROI with the user's overrides on top."""
        if not self.phase.value:
            return False
        return dict(self.overrides) if self.overrides else True

    def describe(self, scan: Scan) -> None:
        """List the phase offsets in use for each field."""
        if not self.phase.value:
            self.phase_info.value = "not corrected"
            return
        lines = []
        for f in scan.fields:
            offsets = ", ".join(f"{o:+.2f}" for o in scan.scan_phase(f.index))
            mark = " (set)" if f.index in self.overrides else ""
            lines.append(f"field {f.index + 1}: {offsets}{mark}")
        self.phase_info.value = "\n".join(lines)

    def _set_override(self) -> None:
        field = self.phase_field.value
        if field is None or self._host.scan is None:
            return
        self.overrides[int(field)] = float(self.phase_value.value)
        with self._host.quietly():
            self.phase.value = True
        self._host.apply_options()

    def _check_seams(self) -> None:
        joined = self._host.scan
        if joined is None:
            return
        if not joined.join_contiguous:
            # overrides are keyed by the unjoined fields: estimate every joined ROI instead
            joined = joined.with_options(join_contiguous=True, fix_scan_phase=self.phase.value)
        seams = check_seams(joined)
        if not seams:
            self.seams_info.value = "no touching ROIs"
            return
        self.seams_info.value = "\n".join(
            f"{s.left} | {s.right} (z {joined.fields[s.field].depth:g}): step x{s.ratio:.2f}, "
            f"edges x{s.edge_contrast:.2f}{edge_hint(s.edge_contrast)}"
            for s in seams
        )
