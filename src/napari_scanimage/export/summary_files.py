"""Summary images on disk: one float32 TIFF per field, channel and kind, plus PNG previews.

Behind ``napari-scanimage summary``.  The TIFFs are ImageJ hyperstacks written
by tifffile with the pixel size in the resolution tags and ``unit=um`` (and the
field's corner as ImageJ's origin), so Fiji shows µm and places fields where
they were imaged.  The preview is the stitched mean of each depth and channel
as an 8-bit PNG (Pillow, which every napari install has too), for a quick look
at seams and focus without opening anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tifffile
from PIL import Image

from napari_scanimage.scan.display import contrast_range
from napari_scanimage.scan.files import acquisition_stem
from napari_scanimage.scan.mosaic import Mosaic
from napari_scanimage.scan.summary_images import (
    DEFAULT_CHUNK_FRAMES,
    KINDS,
    stitch_summaries,
    summary_images,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from napari_scanimage.scan.fields import Field
    from napari_scanimage.scan.scan import Scan

__all__ = ["write_preview", "write_summary_files", "write_summary_tiff"]


def write_summary_tiff(path: Path, image: np.ndarray, field: Field) -> None:
    """A float32 ImageJ TIFF in µm (pixels only when the file gives no pixel size)."""
    data = np.ascontiguousarray(image, dtype=np.float32)
    if not field.pixel_size_known:
        tifffile.imwrite(path, data, imagej=True)
        return
    dy, dx = field.pixel_size_um
    y0, x0 = field.top_left_um
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / dx, 1 / dy),
        metadata={"unit": "um", "xorigin": -x0 / dx, "yorigin": -y0 / dy},
    )


def write_preview(path: Path, image: np.ndarray) -> None:
    """An 8-bit grey PNG, contrast from robust percentiles of the non-zero pixels."""
    shown = image[image != 0]
    low, high = contrast_range(shown if shown.size else image)
    scaled = np.clip((image - low) / (high - low), 0.0, 1.0) * 255
    Image.fromarray(np.round(scaled).astype(np.uint8)).save(path)


def write_summary_files(
    scan: Scan,
    out_dir: str | Path,
    kinds: Sequence[str] = KINDS,
    channels: Sequence[int] | None = None,
    *,
    chunk_frames: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write every field's summary images and the stitched mean previews; returns the paths.

    Names are ``{stem}_field{N}_ch{C}_{kind}.tif`` (N 1-based, C ScanImage's
    channel number) and ``{stem}[_z{D}]_ch{C}_stitched_mean.png``.  The mean is always
    computed, for the preview; only the kinds asked are written as TIFFs.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = acquisition_stem(scan.filenames)
    chosen = list(range(scan.num_channels)) if channels is None else list(channels)
    computed = tuple(dict.fromkeys(["mean", *kinds]))
    frames_per_chunk = DEFAULT_CHUNK_FRAMES if chunk_frames is None else chunk_frames
    total = scan.num_frames * scan.num_fields * len(chosen)
    written: list[Path] = []
    for c_index, channel in enumerate(chosen):
        number = scan.channels[channel]
        images: dict[int, dict[str, np.ndarray]] = {}
        for field in scan.fields:
            before = (c_index * scan.num_fields + field.index) * scan.num_frames

            def step(done: int, _total: int, before: int = before) -> None:
                if progress is not None:
                    progress(before + done, total)

            images[field.index] = summary_images(
                scan, field.index, channel, computed, chunk_frames=frames_per_chunk, progress=step
            )
            for kind in kinds:
                path = out / f"{stem}_field{field.index + 1}_ch{number}_{kind}.tif"
                write_summary_tiff(path, images[field.index][kind], field)
                written.append(path)
        written.extend(_previews(scan, out, stem, number, images))
    return written


def _previews(
    scan: Scan, out: Path, stem: str, number: int, images: dict[int, dict[str, np.ndarray]]
) -> list[Path]:
    """The stitched mean of each depth (each field's own mean without µm geometry)."""
    paths = []
    deep = scan.num_scanning_depths > 1
    if not all(f.pixel_size_known for f in scan.fields):
        for field in scan.fields:
            paths.append(out / f"{stem}_field{field.index + 1}_ch{number}_mean.png")
            write_preview(paths[-1], images[field.index]["mean"])
        return paths
    for depth in range(scan.num_scanning_depths):
        fields = {f.index: images[f.index] for f in scan.fields if f.depth_index == depth}
        if not fields:
            continue
        mosaic = Mosaic.of(scan, list(fields))
        stitched = stitch_summaries(mosaic, depth, fields, ("mean",))["mean"]
        paths.append(
            out / f"{stem}{f'_z{depth + 1}' if deep else ''}_ch{number}_stitched_mean.png"
        )
        write_preview(paths[-1], stitched)
    return paths
