"""Translate the headers of ScanImage 3.x, 4.x and 5.0/5.1 into the modern ``SI.*`` names.

The rest of the package reads one vocabulary, the 2016+ FrameData tree
(``SI.hChannels.channelSave``, ``SI.hStackManager.framesPerSlice``, ...).  Older
generations said the same things under other names; each gets a table here.
Semantics follow ScanImage's own readers: ``scim_openTif.m`` (SI 3/4:
``state.acq.savingChannelN`` and ``acquiringChannelN``, ``numberOfFrames``,
``numberOfZSlices``; SI4 ``channelsSave``, ``scanPixelsPerLine``,
``acqNumFrames / acqNumAveragedFrames[Saved]``, ``stackNumSlices``) and the
2015 ``opentif.m`` (SI5 ``channelsSave``, ``pixelsPerLine``, ``fastZNumVolumes``,
``acqNumFrames / acqNumAveragedFrames``, ``stackNumSlices``).  ``acqNumFrames`` and
``numberOfFrames`` count raw frames, as ``framesPerSlice`` does, so averaging
divides them the same way.  SI 3.x averages ``numAvgFramesSave`` frames when
``state.acq.averaging`` is on (``numberOfFrames`` when that key is absent).
"""

from __future__ import annotations

import math
from typing import Any

from napari_scanimage.format.matlab import nest

__all__ = ["SI3_PREFIX", "SI4_PREFIX", "SI5_PREFIX", "nest", "translate"]

SI3_PREFIX = "state."
SI4_PREFIX = "scanimage.SI4."
SI5_PREFIX = "scanimage.SI5."

# old name (after the prefix) -> modern dotted name under SI.
_SI4: dict[str, str] = {
    "channelsSave": "hChannels.channelSave",
    "channelsActive": "hChannels.channelsActive",
    "scanPixelsPerLine": "hRoiManager.pixelsPerLine",
    "scanLinesPerFrame": "hRoiManager.linesPerFrame",
    "acqNumFrames": "hStackManager.framesPerSlice",
    "stackNumSlices": "hStackManager.numSlices",
    "stackZStepSize": "hStackManager.stackZStepSize",
    "fastZEnable": "hFastZ.enable",
    "fastZNumVolumes": "hFastZ.numVolumes",
    "fastZDiscardFlybackFrames": "hFastZ.discardFlybackFrames",
    "fastZNumDiscardFrames": "hFastZ.numDiscardFlybackFrames",
    "scanZoomFactor": "hRoiManager.scanZoomFactor",
    "scanFrameRate": "hRoiManager.scanFrameRate",
    "scanFramePeriod": "hRoiManager.scanFramePeriod",
    "bidirectionalAcq": "hScan2D.bidirectional",
    "loggingFramesPerFile": "hScan2D.logFramesPerFile",
    "motorPosition": "hMotors.motorPosition",
}
_SI5: dict[str, str] = {
    **_SI4,
    "pixelsPerLine": "hRoiManager.pixelsPerLine",
    "linesPerFrame": "hRoiManager.linesPerFrame",
    "zoomFactor": "hRoiManager.scanZoomFactor",
    "fillFraction": "hScan2D.fillFractionSpatial",
    "fillFractionTime": "hScan2D.fillFractionTemporal",
}
_SI3: dict[str, str] = {
    "acq.pixelsPerLine": "hRoiManager.pixelsPerLine",
    "acq.linesPerFrame": "hRoiManager.linesPerFrame",
    "acq.numberOfFrames": "hStackManager.framesPerSlice",
    "acq.numberOfZSlices": "hStackManager.numSlices",
    "acq.zStepSize": "hStackManager.stackZStepSize",
    "acq.frameRate": "hRoiManager.scanFrameRate",
    "acq.zoomFactor": "hRoiManager.scanZoomFactor",
    "acq.bidirectionalScan": "hScan2D.bidirectional",
}
_TABLES = {SI3_PREFIX: _SI3, SI4_PREFIX: _SI4, SI5_PREFIX: _SI5}


def _number(value: Any) -> float:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _on(value: Any) -> bool:
    number = _number(value)
    return value is True or (math.isfinite(number) and number != 0)


def _si3_extras(old: dict[str, Any], si: dict[str, Any]) -> None:
    """Channels and averaging of ScanImage 3.x, as ``scim_openTif`` derives them."""
    channels = [
        i
        for i in range(1, 5)
        if _on(old.get(f"acq.savingChannel{i}")) and _on(old.get(f"acq.acquiringChannel{i}", 1))
    ]
    if not channels:
        count = _number(old.get("acq.numberOfChannelsSave"))
        channels = list(range(1, int(count) + 1)) if math.isfinite(count) and count >= 1 else [1]
    si["hChannels.channelSave"] = channels[0] if len(channels) == 1 else channels
    average = 1.0
    if _on(old.get("acq.averaging")):
        average = _number(old.get("acq.numAvgFramesSave", old.get("acq.numberOfFrames")))
    si["hScan2D.logAverageFactor"] = int(average) if math.isfinite(average) and average > 1 else 1


def _si45_extras(old: dict[str, Any], si: dict[str, Any]) -> None:
    """Averaging, rates and the fast-Z volume rate of ScanImage 4.x / 5.0."""
    average = _number(old.get("acqNumAveragedFramesSaved", old.get("acqNumAveragedFrames", 1)))
    si["hScan2D.logAverageFactor"] = int(average) if math.isfinite(average) and average > 1 else 1
    period = _number(old.get("scanFramePeriod"))
    if "hRoiManager.scanFrameRate" not in si and math.isfinite(period) and period > 0:
        si["hRoiManager.scanFrameRate"] = 1.0 / period
    volume_period = _number(old.get("fastZPeriod"))
    if math.isfinite(volume_period) and volume_period > 0:
        si["hRoiManager.scanVolumeRate"] = 1.0 / volume_period


def translate(prefix: str, old: dict[str, Any], version: tuple[Any, Any]) -> dict[str, Any]:
    """The modern ``SI`` tree for a 3.x/4.x/5.0 header.

    ``old`` maps the file's keys *without* ``prefix`` to parsed values; ``version``
    is (major, minor) as the file states them (None where absent).
    """
    si: dict[str, Any] = {}
    for name, modern in _TABLES[prefix].items():
        if name in old:
            si[modern] = old[name]
    if prefix == SI3_PREFIX:
        _si3_extras(old, si)
        si["hFastZ.enable"] = False
    else:
        _si45_extras(old, si)
    channels = si.get("hChannels.channelSave")
    if isinstance(channels, list) and len(channels) == 1:
        si["hChannels.channelSave"] = channels[0]
    major, minor = version
    if major not in (None, ""):
        si["VERSION_MAJOR"] = major
    if minor not in (None, ""):
        si["VERSION_MINOR"] = minor
    return nest({f"SI.{key}": value for key, value in si.items()})
