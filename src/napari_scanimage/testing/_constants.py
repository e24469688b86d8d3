"""TIFF and ScanImage numbers the writer's parts share."""

_MAGIC = 0x07030301
_IFD_SIZE = 8 + 18 * 20 + 8  # tag count, 18 entries, next-IFD offset
_IRREGULAR_EXTRA = 1064
_ACQ_TRIGGER = -6.455e-05
