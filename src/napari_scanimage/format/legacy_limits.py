"""What the readers of older TIFFs share: tifffile's failure modes and one refusal.

Kept apart so that :mod:`.header`, :mod:`.legacy_header` and
:mod:`.legacy_index` can all use them without importing one another, and
without loading tifffile.
"""

from __future__ import annotations

import struct

__all__ = ["REMOTE_LEGACY", "TIFFFILE_ERRORS"]

TIFFFILE_ERRORS = (
    OSError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    OverflowError,
    RecursionError,
    struct.error,
)
"""What tifffile raises on damaged files; turned into our errors naming the file.

(``tifffile.TiffFileError`` is a ``ValueError``: tifffile is imported only for
the files that need it, so that opening a 2016+ file never loads it.)"""

REMOTE_LEGACY = (
    "a TIFF without ScanImage's static header block (ScanImage 2015 or older, or re-saved "
    "by another tool): such files are read from local disks only; download it first"
)
"""Why such a file is refused at a URL: tifffile walks its IFDs, one request each."""
