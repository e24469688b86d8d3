"""``to_nwb``: check, build, write to a temporary name, and rename only when complete.

The file is written as ``.<name>.<random>.partial`` in the target's folder and
renamed onto the target (an atomic ``os.replace``) once pynwb has closed it.
An interrupted write deletes its partial file; a killed one leaves a
``.partial`` behind, never a file with the target's name, so a file named
``*.nwb`` by this exporter is always complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb.conversion import conversion_record
from napari_scanimage.export.nwb.metadata import load_metadata
from napari_scanimage.export.nwb.plan import NwbPlan
from napari_scanimage.export.nwb.requires import require_nwb

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from napari_scanimage.export.nwb.metadata import MetadataSource, NwbMetadata
    from napari_scanimage.export.nwb.plan import NwbCompression
    from napari_scanimage.scan.scan import Scan

__all__ = ["check_target", "partial_file", "to_nwb"]


def to_nwb(
    scan: Scan,
    path: str | os.PathLike[str],
    metadata: MetadataSource | NwbMetadata = None,
    *,
    compression: NwbCompression | None = "gzip",
    compression_level: int = 4,
    fields: Sequence[int] | None = None,
    channels: Sequence[int] | None = None,
    progress: Callable[[int, int], object] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a scan as one NWB file: a ``TwoPhotonSeries`` per field and channel.

    Series ``TwoPhotonSeriesField{n}Ch{m}`` (field ``n`` counted from 1, ScanImage's
    channel ``m``) in ``acquisition`` hold ``(frames, y, x)`` in the scan's dtype,
    exactly ``scan.read_field(n - 1, channels=[...])`` with the scan's joining,
    trims and scan-phase correction, timed by the pages' own
    ``frameTimestamps_sec``.  Each field has an ``ImagingPlane`` at its µm
    position; the ScanImage header is kept whole in ``data_collection``.

    Parameters
    ----------
    scan
        The open scan.
    path
        The ``.nwb`` file to write.
    metadata
        A YAML file's path or a dict in neuroconv's layout (``NWBFile``,
        ``Subject``, ``Ophys``, and ``timezone`` for ScanImage's epoch); see
        :mod:`napari_scanimage.export.nwb.metadata`.  None: defaults only.
    compression
        ``'gzip'`` (default, with byte shuffle) or None.
    compression_level
        gzip level 0-9.
    fields, channels
        Field and channel indices to export (0-based); None exports all.
    progress
        Called as ``progress(done, total)`` with counts of written buffers.
    overwrite
        Replace an existing file; without it an existing ``path`` is an error.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportError
        Bad metadata or options, ``path`` exists (without ``overwrite``) or
        cannot be written.
    """
    require_nwb()
    from napari_scanimage.export.nwb.build import build_nwbfile  # noqa: PLC0415 - pynwb

    target = Path(path)
    checked = load_metadata(metadata)
    plan = NwbPlan.of(
        scan,
        fields=fields,
        channels=channels,
        compression=compression,
        compression_level=compression_level,
    )
    check_target(target, overwrite)
    total = plan.num_buffers
    done = 0
    report = progress or (lambda done, total: None)

    def moved() -> None:
        nonlocal done
        done += 1
        report(done, total)

    report(0, total)
    nwbfile = build_nwbfile(scan, checked, plan, moved, conversion_record(scan, plan))
    with partial_file(target) as partial:
        _write(nwbfile, partial)
    return target


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse an existing file (unless ``overwrite``), a folder, or a missing parent folder."""
    if target.is_dir():
        raise ExportError(f"{target}: is a folder, not an NWB file")
    if target.exists() and not overwrite:
        raise ExportError(f"{target}: exists; use overwrite (--overwrite) to replace it")
    if not target.parent.is_dir():
        raise ExportError(f"{target}: the folder {target.parent} does not exist")


@contextlib.contextmanager
def partial_file(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, renamed onto it if the block ends normally."""
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
    except OSError as exc:
        raise ExportError(f"{target}: cannot write in {target.parent} ({exc.strerror})") from exc
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _write(nwbfile: object, path: Path) -> None:
    from pynwb import NWBHDF5IO  # noqa: PLC0415 - pynwb loads on demand

    with warnings.catch_warnings():
        # the partial file's name must not end in .nwb; it does once renamed
        warnings.filterwarnings("ignore", "The file path provided.*does not end in '.nwb'")
        io = NWBHDF5IO(str(path), mode="w")
    with io:
        io.write(nwbfile)
