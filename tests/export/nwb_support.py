"""What the NWB tests share: complete metadata, and the checks DANDI runs on every file."""

from __future__ import annotations

import pytest

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

# Enough for DANDI: the subject with species, an Allen CCF location (the species is a mouse).
META = {
    "timezone": "Europe/Berlin",
    "NWBFile": {
        "session_description": "synthetic recording",
        "experimenter": ["Doe, Jane"],
        "experiment_description": "tests of napari-scanimage's NWB export",
        "institution": "Nowhere University",
        "lab": "Test Lab",
        "keywords": ["two-photon", "ScanImage"],
    },
    "Subject": {
        "subject_id": "m1",
        "species": "Mus musculus",
        "sex": "F",
        "age": "P90D",
        "description": "a synthetic mouse",
    },
    "Ophys": {
        "Device": [{"name": "Microscope", "description": "resonant two-photon microscope"}],
        "ImagingPlane": [
            {
                "indicator": "GCaMP6s",
                "location": "VISp",
                "excitation_lambda": 920.0,
                "optical_channel": [{"emission_lambda": 510.0, "description": "green PMT"}],
            }
        ],
    },
}

SERIOUS = ("CRITICAL", "BEST_PRACTICE_VIOLATION")


def serious_messages(path, *, ignore=()):
    """nwbinspector's CRITICAL and BEST_PRACTICE_VIOLATION messages as (check, object) pairs."""
    return [
        (m.check_function_name, m.object_name, m.message)
        for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path))
        if m.importance.name in SERIOUS and m.check_function_name not in ignore
    ]


def assert_dandi_ready(path, *, ignore=()):
    """The file passes pynwb's schema validation and nwbinspector at DANDI's levels."""
    assert pynwb.validate(path=str(path)) == []
    assert serious_messages(path, ignore=ignore) == []


def read_back(path):
    """An open NWBHDF5IO and its NWBFile; close the io when done."""
    io = pynwb.NWBHDF5IO(str(path), mode="r")
    return io, io.read()
