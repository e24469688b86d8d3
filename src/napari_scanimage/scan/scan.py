"""The ``Scan``: a lazy, numpy-like view of one ScanImage acquisition.

``scan[fields, y, x, channels, frames]`` follows atlab/scanreader's axis order
so pipelines can switch.  Everything reads through one primitive,
:meth:`Scan.read_field`, which copies the requested pages' rows straight from
the files into the output.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_scanimage._text import plural
from napari_scanimage.errors import (
    ScanImageError,
    ScanImageWarning,
)
from napari_scanimage.scan.fields import Field, Trim, common_size
from napari_scanimage.scan.files import (
    PathsLike,
    acquisition_files,
    expand_paths,
    natural_key,
)
from napari_scanimage.scan.frame_info import frame_description, per_frame_values
from napari_scanimage.scan.indexing import normalize_axis, select
from napari_scanimage.scan.phase import (
    PhaseOption,
    estimate_field_phase,
    phase_offsets,
    shift_odd_rows,
)
from napari_scanimage.scan.placement import place_fields
from napari_scanimage.scan.rates import rate_disagreement
from napari_scanimage.scan.source import ScanSource

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator
    from pathlib import Path

    import dask.array as da
    import numpy.typing as npt

    from napari_scanimage.format.header import ScanImageHeader

__all__ = ["Scan", "read_scan"]

_STAGING_BYTES = 1 << 22  # pages staged at once when the parts of a joined field are read together


def read_scan(
    paths: PathsLike,
    dtype: npt.DTypeLike | None = None,
    join_contiguous: bool = False,
    *,
    trim: Trim | tuple[int, int, int, int] | None = None,
    fix_scan_phase: PhaseOption = False,
    storage_options: dict[str, Any] | None = None,
) -> Scan:
    """Open a ScanImage acquisition (one file, a glob pattern, or a list of either).

    Parameters
    ----------
    paths
        A path, a glob pattern such as ``'/data/scan_*.tif'``, or a list of
        either.  Files are ordered naturally (``_00002`` before ``_00010``).
        URLs work the same (``s3://bucket/rec/scan_00001_*.tif``, ``https://...``,
        ``gs://...``, any fsspec URL): objects are read by byte ranges.
    dtype
        dtype of the arrays returned; None keeps the file's (``int16`` normally).
    join_contiguous
        Join ROIs of one depth that touch side by side into one field.
    trim
        Pixels cut from each ROI as ``(left, right, top, bottom)`` or a ``Trim``.
    fix_scan_phase
        Undo the bidirectional scan-phase offset on read: True estimates it per
        ROI strip (see :meth:`Scan.estimate_scan_phase`), a number applies that
        offset (pixels) everywhere; a ``{field: offset}`` mapping sets the offset
        of those fields and estimates the others.
    storage_options
        For URLs: options of the fsspec filesystem (e.g. ``{"anon": True}``,
        ``{"endpoint_url": ...}`` for s3fs); fsspec's config and environment
        (``FSSPEC_S3_ANON=true``, AWS variables) apply too.

    Returns
    -------
    Scan
        Lazy: only headers and a few IFDs are read until pixels are indexed.

    Raises
    ------
    ScanImageError
        A subclass naming the file and the problem: ``NotScanImageError``,
        ``TruncatedFileError``, ``MixedAcquisitionError``, ... A pattern that
        matches nothing raises one that is also a ``FileNotFoundError``.
    """
    files = expand_paths(paths, storage_options)
    source = ScanSource.open(files, storage_options)
    scan = Scan(
        source,
        dtype=dtype,
        join_contiguous=join_contiguous,
        trim=trim,
        fix_scan_phase=fix_scan_phase,
    )
    dropped = scan.dropped_pages
    if dropped:  # said once, when the files are opened, not by every with_options view
        cut = scan.layout.describe_cut(source.num_pages)
        warnings.warn(
            f"{source.readers[-1].path}: the acquisition ends with {cut}; "
            f"dropped its {plural(dropped, 'page')}",
            ScanImageWarning,
            stacklevel=2,
        )
    disagreement = scan.rate_disagreement()
    if disagreement:
        warnings.warn(
            f"{source.readers[0].path}: {disagreement}; scan.fps keeps the header's "
            f"{scan.fps:.4g}, scan.timestamp_fps is the pages' {scan.timestamp_fps:.4g}",
            ScanImageWarning,
            stacklevel=2,
        )
    return scan


def _positions(key: npt.ArrayLike | None, length: int, axis: str) -> np.ndarray:
    """``read_field``'s channels or frames: None for all, an int, or ints."""
    if key is None:
        return normalize_axis(slice(None), length, axis).values
    if type(key) is int:  # plain ints take normalize_axis' fast path
        return normalize_axis(key, length, axis).values
    return normalize_axis(np.atleast_1d(key), length, axis).values


_staged = threading.local()


def _staging(nbytes: int) -> np.ndarray:
    """A staging buffer of ``nbytes``: this thread's, kept between reads, up to 4 MB.

    A new buffer per read would be a fresh mapping each time, and faulting its
    pages in cost more than the read itself (measured: 0.4 ms per 0.5 MB frame).
    """
    if nbytes > _STAGING_BYTES:
        return np.empty(nbytes, np.uint8)  # pages this big: not kept
    buffer: np.ndarray | None = getattr(_staged, "buffer", None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = _staged.buffer = np.empty(_STAGING_BYTES, np.uint8)
    return buffer[:nbytes]


@dataclass(frozen=True)
class _Frames:
    count: int
    depths: int
    dropped_pages: int


class Scan:
    """One acquisition: fields x y x x x channels x frames, read on demand.

    Glossary: a *page* is one TIFF page (one channel of one plane); a *frame* is
    one time point of a field (one volume for fast-Z stacks); a *depth* is one
    z-plane; an *ROI* is ScanImage's scanfield at one depth; a *field* is a
    rectangle of output (one ROI, or several joined ones) at one depth.
    """

    def __init__(
        self,
        source: ScanSource,
        *,
        dtype: npt.DTypeLike | None = None,
        join_contiguous: bool = False,
        trim: Trim | tuple[int, int, int, int] | None = None,
        fix_scan_phase: PhaseOption = False,
    ) -> None:
        self._source = source
        self.fix_scan_phase: PhaseOption = fix_scan_phase
        self.header: ScanImageHeader = source.header
        self.layout = source.layout  # header, corrected where the pages disagree
        first = source.readers[0].index
        self.page_height, self.page_width = first.height, first.width
        self.file_dtype: np.dtype[Any] = first.dtype
        self.dtype: np.dtype[Any] = np.dtype(first.dtype if dtype is None else dtype)
        self.join_contiguous = join_contiguous
        if trim is not None and not isinstance(trim, Trim):
            left, right, top, bottom = trim
            trim = Trim(left=left, right=right, top=top, bottom=bottom)
        self.trim: Trim = trim or Trim()
        self._placed = place_fields(
            self.header,
            self.layout,
            self.page_height,
            self.page_width,
            join=join_contiguous,
            trim=self.trim,
        )
        self._counted: tuple[int, _Frames, tuple[Field, ...]] | None = None
        self._recount()

    def _recount(self) -> _Frames:
        """Count complete frames in the pages the files hold now (they grow while followed).

        Cheap (arithmetic on the page count), so every ``num_frames`` checks it.
        The count and the fields are replaced together, as one value, so a
        reader thread and a refreshing thread never leave them out of step.
        """
        pages = self._source.num_pages
        counted = self._counted
        if counted is not None and counted[0] == pages:
            return counted[1]
        frames, depths, dropped = self.layout.count_frames(pages)
        if frames == 0 or depths == 0:
            msg = f"holds {pages} pages, not one complete frame of every field"
            raise ScanImageError(f"{self._source.readers[0].path}: {msg}")
        fields = tuple(f for f in self._placed if f.depth_index < depths)
        self._counted = (pages, _Frames(frames, depths, dropped), fields)
        return self._counted[1]

    @property
    def fields(self) -> tuple[Field, ...]:
        """The fields, over all depths recorded so far."""
        self._recount()
        assert self._counted is not None
        return self._counted[2]

    def with_options(
        self,
        *,
        join_contiguous: bool | None = None,
        trim: Trim | tuple[int, int, int, int] | None = None,
        dtype: npt.DTypeLike | None = None,
        fix_scan_phase: PhaseOption | None = None,
    ) -> Scan:
        """The same files with other joining/trim/dtype/phase; nothing is re-read.

        The views share the open files: closing any of them closes them all.
        """
        return Scan(
            self._source,
            dtype=self.dtype if dtype is None else dtype,
            join_contiguous=self.join_contiguous if join_contiguous is None else join_contiguous,
            trim=self.trim if trim is None else trim,
            fix_scan_phase=self.fix_scan_phase if fix_scan_phase is None else fix_scan_phase,
        )

    # -- scanreader-compatible attributes ---------------------------------------

    @property
    def filenames(self) -> list[str]:
        """The files, in acquisition order."""
        return [reader.path for reader in self._source.readers]

    @property
    def num_files(self) -> int:
        """Number of files."""
        return len(self._source.readers)

    @cached_property
    def version(self) -> str:
        """ScanImage version, e.g. ``'2016b'`` or ``'2021.0'``."""
        major = self.header.get("SI.VERSION_MAJOR", "")
        minor = self.header.get("SI.VERSION_MINOR", "")
        if isinstance(major, int | float) and not isinstance(major, bool):
            major = f"{major:g}"
            return f"{major}.{minor if minor not in ('', None) else 0}"
        return f"{major}.{minor}" if minor not in ("", None, 0, "0") else str(major)

    @property
    def tiff_format_version(self) -> int:
        """ScanImage's TIFF format version (3 or 4)."""
        return self.header.tiff_format_version

    @property
    def metadata(self) -> dict[str, Any]:
        """FrameData as nested dicts: ``scan.metadata['SI']['hRoiManager']['linePeriod']``."""
        return self.header.frame_data

    @property
    def roi_groups(self) -> dict[str, Any]:
        """The RoiGroups JSON as dicts."""
        return self.header.roi_groups

    @property
    def num_frames(self) -> int:
        """Complete frames per field (volumes for fast-Z stacks); grows with :meth:`refresh`."""
        return self._recount().count

    @property
    def dropped_pages(self) -> int:
        """Pages of an incomplete last frame or volume that are not shown."""
        return self._recount().dropped_pages

    @property
    def num_channels(self) -> int:
        """Number of saved channels."""
        return self.layout.num_channels

    @property
    def channels(self) -> tuple[int, ...]:
        """ScanImage's numbers of the saved channels (1-based)."""
        return self.layout.channels

    @property
    def num_fields(self) -> int:
        """Number of fields over all depths."""
        return len(self.fields)

    @property
    def num_scanning_depths(self) -> int:
        """Number of depths recorded."""
        return self._recount().depths

    @property
    def scanning_depths(self) -> list[float]:
        """Z of each recorded depth (µm)."""
        return list(self.layout.depths[: self.num_scanning_depths])

    @property
    def field_heights(self) -> list[int]:
        """Height of each field in pixels."""
        return [f.height for f in self.fields]

    @property
    def field_widths(self) -> list[int]:
        """Width of each field in pixels."""
        return [f.width for f in self.fields]

    @property
    def field_depths(self) -> list[float]:
        """Z of each field (µm)."""
        return [f.depth for f in self.fields]

    @property
    def field_offsets(self) -> list[tuple[tuple[int, int], ...]]:
        """(y, x) position in the page of each part of each field."""
        return [f.offsets for f in self.fields]

    @property
    def depth_step(self) -> float | None:
        """Spacing of the depths in µm, or None where there is one depth or uneven ones."""
        steps = np.diff(np.asarray(self.scanning_depths, dtype=float))
        if len(steps) and np.allclose(steps, steps[0]) and steps[0] != 0:
            return float(steps[0])
        return None

    @property
    def fps(self) -> float:
        """Frames per second of one field (the volume rate for fast-Z stacks)."""
        return self.layout.fps

    @property
    def timestamp_fps(self) -> float:
        """Frames per second of one field as the pages' ``frameTimestamps_sec`` show it.

        From the first two frames; NaN where the pages carry no timestamps or hold
        fewer than two frames.  :attr:`fps` stays the header's value; where the two
        differ by more than 10 %, opening the scan warns.
        """
        return self._source.timestamp_fps()

    def rate_disagreement(self) -> str | None:
        """How the header's rate and the pages' timestamps disagree, or None."""
        volumes = self.layout.planes_per_volume > 1 and not self.layout.slow_stack
        return rate_disagreement(self.fps, self.timestamp_fps, volumes=volumes)

    @property
    def is_multiROI(self) -> bool:  # noqa: N802 - scanreader's name
        """Whether ScanImage's multi-ROI mode was on."""
        return self.header.flag("SI.hRoiManager.mroiEnable")

    @property
    def is_bidirectional(self) -> bool:
        """Whether lines were scanned in both directions."""
        return self.header.flag("SI.hScan2D.bidirectional")

    @property
    def zoom(self) -> float:
        """``SI.hRoiManager.scanZoomFactor``."""
        return self.header.number("SI.hRoiManager.scanZoomFactor")

    @property
    def is_slow_stack(self) -> bool:
        """Whether depths were acquired one after another by a motor stack."""
        return self.layout.slow_stack

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """``(fields, y, x, channels, frames)``; fields must share one size."""
        height, width = common_size(self.fields)
        return (self.num_fields, height, width, self.num_channels, self.num_frames)

    @property
    def ndim(self) -> int:
        """Always 5."""
        return 5

    def __len__(self) -> int:
        """Number of fields."""
        return self.num_fields

    def __repr__(self) -> str:
        """One line a user can read."""
        sizes = ", ".join(f"{f.height}x{f.width}" for f in self.fields[:6])
        more = ", ..." if self.num_fields > 6 else ""
        return (
            f"<Scan ScanImage {self.version}: {self.num_fields} fields ({sizes}{more}), "
            f"{self.num_channels} channels, {self.num_frames} frames at {self.fps:.4g} Hz, "
            f"{self.num_files} files>"
        )

    # -- reading -------------------------------------------------------------------

    def read_field(
        self,
        field: int,
        channels: npt.ArrayLike | None = None,
        frames: npt.ArrayLike | None = None,
        rows: slice | None = None,
        cols: slice | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Read one field as ``(frames, channels, rows, cols)``: the reading primitive.

        ``rows``/``cols`` are step-1 slices in field coordinates; everything else
        (indexing, dask chunks, iteration) is built on this.  ``out``, if given,
        receives the data (any array of the right shape, e.g. a reused buffer).
        """
        fields = self.fields
        f = fields[normalize_axis(field, len(fields), "fields").values[0]]
        chans = _positions(channels, self.num_channels, "channels")
        times = _positions(frames, self.num_frames, "frames")
        rows = slice(*(rows or slice(None)).indices(f.height)[:2])
        cols = slice(*(cols or slice(None)).indices(f.width)[:2])
        shape = (
            len(times),
            len(chans),
            max(0, rows.stop - rows.start),
            max(0, cols.stop - cols.start),
        )
        if out is None:
            out = np.empty(shape, dtype=self.dtype)
        elif out.shape != shape:
            raise ScanImageError(f"out has shape {out.shape}, the selection is {shape}")
        self._read_into(f, chans, times, rows, cols, out)
        return out

    def _read_into(
        self,
        f: Field,
        chans: np.ndarray,
        times: np.ndarray,
        rows: slice,
        cols: slice,
        out: np.ndarray,
    ) -> None:
        if out.size == 0:
            return
        pages = self.layout.pages(times, f.depth_index, chans)
        offsets = self.scan_phase(f.index)
        pieces = []  # (page rows, page cols, target) of the parts copied as stored
        for ys, xs, oys, oxs, offset in zip(
            f.yslices, f.xslices, f.output_yslices, f.output_xslices, offsets, strict=True
        ):
            c0, c1 = max(cols.start, oxs.start), min(cols.stop, oxs.stop)
            r0, r1 = max(rows.start, oys.start), min(rows.stop, oys.stop)
            if c0 >= c1 or r0 >= r1:
                continue
            page_rows = slice(ys.start + r0 - oys.start, ys.start + r1 - oys.start)
            page_cols = slice(xs.start + c0 - oxs.start, xs.start + c1 - oxs.start)
            target = out[
                :, :, r0 - rows.start : r1 - rows.start, c0 - cols.start : c1 - cols.start
            ]
            if offset:
                # a phase shift moves pixels along the line: read the ROI's whole width
                whole = np.empty((len(times), len(chans), r1 - r0, xs.stop - xs.start), self.dtype)
                for ci in range(len(chans)):
                    self._source.read(pages[:, ci], page_rows, xs, whole[:, ci])
                shifted = shift_odd_rows(whole, offset, first_row=page_rows.start)
                target[...] = shifted[..., page_cols.start - xs.start : page_cols.stop - xs.start]
                continue
            pieces.append((page_rows, page_cols, target))
        if len(pieces) > 1 and self._read_together(pieces, pages):
            return
        for page_rows, page_cols, target in pieces:
            for ci in range(len(chans)):
                self._source.read(pages[:, ci], page_rows, page_cols, target[:, ci])

    def _read_together(
        self, pieces: list[tuple[slice, slice, np.ndarray]], pages: np.ndarray
    ) -> bool:
        """The parts of a joined field in one read of the page rows spanning them all.

        The ROIs of one depth are stacked in the page, so one system call per run
        of pages replaces one per part and page; the fly-to lines between the
        ROIs come along, unless they would outweigh the ROIs (then False, and
        the parts are read one by one).
        """
        top = min(rows.start for rows, _, _ in pieces)
        bottom = max(rows.stop for rows, _, _ in pieces)
        if bottom - top > 1.5 * sum(rows.stop - rows.start for rows, _, _ in pieces):
            return False
        page_bytes = (bottom - top) * self.page_width * self.file_dtype.itemsize
        per = max(1, _STAGING_BYTES // page_bytes)
        count = len(pages)
        staged = _staging(min(per, count) * page_bytes).view(self.file_dtype)
        staged = staged.reshape(min(per, count), bottom - top, self.page_width)
        for ci in range(pages.shape[1]):
            for a in range(0, count, per):
                b = min(count, a + per)
                block = staged[: b - a]
                self._source.read(pages[a:b, ci], slice(top, bottom), slice(None), block)
                for rows, cols, target in pieces:
                    part = block[:, rows.start - top : rows.stop - top, cols]
                    np.copyto(target[a:b, ci], part, casting="unsafe")
        return True

    # -- bidirectional scan phase ----------------------------------------------------

    def scan_phase(self, field: int) -> tuple[float, ...]:
        """Offsets (pixels) undone on read for each part (ROI) of a field; 0 when off."""
        return phase_offsets(self, field)

    def estimate_scan_phase(
        self, field: int, frames: int = 100, channel: int = 0, max_offset: int = 10
    ) -> tuple[float, ...]:
        """Estimate the odd/even line offset of each ROI strip of a field (pixels).

        Uses the mean of ``frames`` frames spread over the recording, read
        uncorrected; results are cached per ROI for this set of files.
        """
        return estimate_field_phase(self, field, frames, channel, max_offset)

    @property
    def phase_cache(self) -> dict[tuple[Any, ...], float]:
        """Scan-phase estimates per ROI strip, shared by every view of these files."""
        return self._source.phase_cache

    def _read_raw(
        self, depth: int, rows: slice, cols: slice, frames: np.ndarray, channel: int
    ) -> np.ndarray:
        """Page pixels as stored, without any correction: ``(frames, rows, cols)`` float64."""
        out = np.empty((len(frames), rows.stop - rows.start, cols.stop - cols.start))
        pages = self.layout.pages(frames.astype(np.int64), depth, np.array([channel]))
        self._source.read(pages[:, 0], rows, cols, out)
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        """``scan[fields, y, x, channels, frames]`` with numpy's rules on each axis.

        Ints drop their axis; slices and int lists keep it.  Lists on several
        axes select independently (outer indexing, as in scanreader), unlike
        numpy's broadcasting of index arrays.
        """
        return select(self, key)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Each field in turn as ``(y, x, channels, frames)``, read when reached."""
        for i in range(self.num_fields):
            yield self[i]

    # -- lazy and per-frame access ---------------------------------------------------

    def to_dask(self, field: int, channel: int = 0, frames_per_chunk: int = 32) -> da.Array:
        """A dask array ``(frames, y, x)`` of one field and channel.

        Each chunk of ``frames_per_chunk`` frames reads only its own pages.
        """
        from napari_scanimage.lazy import field_to_dask  # noqa: PLC0415 - dask loads lazily

        return field_to_dask(self, field, channel, frames_per_chunk)

    def summary_image(
        self, field: int, channel: int = 0, kind: str = "mean", frames: Any = None
    ) -> np.ndarray:
        """A QC image ``(y, x)`` of one field: ``mean``, ``max``, ``std`` or ``correlation``.

        One streaming pass over the frames (all, or a slice/range/list); see
        :func:`napari_scanimage.scan.summary_images.summary_images` for several
        kinds from the same pass.
        """
        from napari_scanimage.scan.summary_images import summary_images  # noqa: PLC0415

        return summary_images(self, field, channel, (kind,), frames)[kind]

    def frame_timestamps(self, field: int = 0) -> np.ndarray:
        """``frameTimestamps_sec`` of each frame of a field (NaN where missing)."""
        return per_frame_values(self, field, "frameTimestamps_sec")

    def frame_numbers(self, field: int = 0) -> np.ndarray:
        """ScanImage's ``frameNumbers`` of each frame of a field (-1 where missing)."""
        values = per_frame_values(self, field, "frameNumbers")
        return np.where(np.isnan(values), -1, values).astype(np.int64)

    def frame_description(self, frame: int, field: int = 0, channel: int = 0) -> dict[str, Any]:
        """All per-page values of one frame (frame numbers, timestamps, triggers, ...)."""
        return frame_description(self, frame, field, channel)

    def description(self, page: int) -> str:
        """The ImageDescription text of one page of the acquisition (global page number)."""
        return self._source.description(page)

    def to_zarr(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write the scan as OME-Zarr; see :func:`napari_scanimage.export.to_zarr`."""
        from napari_scanimage.export import to_zarr  # noqa: PLC0415 - zarr loads on demand

        return to_zarr(self, path, **options)

    def to_nwb(self, path: str | os.PathLike[str], metadata: Any = None, **options: Any) -> Path:
        """Write the scan as NWB; see :func:`napari_scanimage.export.nwb.to_nwb`."""
        from napari_scanimage.export.nwb import to_nwb  # noqa: PLC0415 - pynwb loads on demand

        return to_nwb(self, path, metadata, **options)

    def reopen(self) -> Scan:
        """Open the files again, to see frames (and split files) written since.

        An acquisition still being recorded grows; this re-indexes its files and
        picks up new files of the same numbered series.
        """
        source = self._source
        urls = source.urls
        files = set(urls) | set(acquisition_files(urls[-1], source.storage_options))
        ordered: list[str] = sorted(files, key=natural_key)
        return read_scan(
            ordered,
            self.dtype,
            self.join_contiguous,
            trim=self.trim,
            fix_scan_phase=self.fix_scan_phase,
            storage_options=source.storage_options,
        )

    def refresh(self) -> int:
        """Take in what ScanImage wrote since the last look; returns the new complete frames.

        For acquisitions being recorded: pages appended to the last file and new
        files of the same numbered series are indexed (only those), and
        ``num_frames`` grows in place, for this scan and every view of the same
        files (:meth:`with_options`).  Half-written pages are never counted.
        """
        before = self.num_frames
        self._source.refresh()
        return self.num_frames - before

    def acquisition_ended(self) -> bool:
        """Whether the last page written says the acquisition is over (stop following)."""
        return self._source.acquisition_ended()

    def close(self) -> None:
        """Close the files; arrays already returned stay valid."""
        self._source.close()

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
