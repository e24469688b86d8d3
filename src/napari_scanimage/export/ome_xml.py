"""The OME-XML listing that makes the store one *bioformats2raw* collection of images.

NGFF 0.4's layout for several images in one store: the root group says
``"bioformats2raw.layout": 3``, images sit in groups ``"0"``, ``"1"``, ... and
``OME/METADATA.ome.xml`` describes each as ``Image:N``.  Readers (napari-ome-zarr,
Fiji, QuPath) then open every field at once from the store's root.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from napari_scanimage.export.plan import ImagePlan

__all__ = ["OME_NAMESPACE", "metadata_xml"]

OME_NAMESPACE = "http://www.openmicroscopy.org/Schemas/OME/2016-06"

_PIXEL_TYPES = {
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "uint16": "uint16",
    "int32": "int32",
    "uint32": "uint32",
    "float32": "float",
    "float64": "double",
}


def metadata_xml(
    images: Sequence[ImagePlan],
    *,
    names: Sequence[str],
    dtype: str,
    fps: float,
    channel_numbers: Sequence[int],
    creator: str,
) -> str:
    """OME-XML with one metadata-only ``Image`` per exported field."""
    ET.register_namespace("", OME_NAMESPACE)
    root = ET.Element(_tag("OME"), {"Creator": creator})
    for position, (image, name) in enumerate(zip(images, names, strict=True)):
        element = ET.SubElement(root, _tag("Image"), {"ID": f"Image:{position}", "Name": name})
        f = image.field
        attributes = {
            "ID": f"Pixels:{position}",
            "DimensionOrder": "XYZCT",
            "Type": _PIXEL_TYPES.get(str(np.dtype(dtype)), "double"),
            "SizeX": str(f.width),
            "SizeY": str(f.height),
            "SizeZ": "1",
            "SizeC": str(len(channel_numbers)),
            "SizeT": str(image.shape[0]),
        }
        if f.pixel_size_known:  # else unknown: said by leaving it out, never invented
            attributes |= {
                "PhysicalSizeX": repr(f.pixel_size_um[1]),
                "PhysicalSizeXUnit": "µm",
                "PhysicalSizeY": repr(f.pixel_size_um[0]),
                "PhysicalSizeYUnit": "µm",
            }
        if math.isfinite(fps) and fps > 0:
            attributes |= {"TimeIncrement": repr(1.0 / fps), "TimeIncrementUnit": "s"}
        pixels = ET.SubElement(element, _tag("Pixels"), attributes)
        for c, number in enumerate(channel_numbers):
            ET.SubElement(
                pixels,
                _tag("Channel"),
                {"ID": f"Channel:{position}:{c}", "Name": f"ch {number}", "SamplesPerPixel": "1"},
            )
        ET.SubElement(pixels, _tag("MetadataOnly"))
    text: str = ET.tostring(root, encoding="unicode", xml_declaration=True)
    return text


def _tag(name: str) -> str:
    return f"{{{OME_NAMESPACE}}}{name}"
