"""The metadata YAML (neuroconv's layout), its checks, and the time-zone rule of the start."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from napari_scanimage import read_scan
from napari_scanimage.export.errors import ExportError
from napari_scanimage.export.nwb import load_metadata
from napari_scanimage.export.nwb.clock import epoch_time
from napari_scanimage.testing import RoiSpec, ScanSpec
from tests.conftest import STRIPS
from tests.export.nwb_support import META, assert_dandi_ready, read_back

SMALL = RoiSpec(name="cells", size_xy=(4.0, 4.0), pixels_xy=(16, 12))

YAML = """\
timezone: America/New_York
NWBFile:
  session_description: Mouse 12, V1, day 3
  experimenter: [Doe, Jane]
  institution: Some University
  lab: Some Lab
  session_id: 20211105   # a number in YAML, text in NWB
  keywords: [two-photon, V1]
  notes: imaged through a cranial window
Subject:
  subject_id: m12
  species: Mus musculus
  sex: F
  age: P90D
  weight: 0.025
  date_of_birth: 2021-08-01
Ophys:
  Device:
    - name: Scope
      description: resonant two-photon microscope
      manufacturer: Thorlabs
      model: Bergamo II
  ImagingPlane:
    - indicator: GCaMP6s
      location: VISp
      excitation_lambda: 920
      optical_channel:
        - emission_lambda: 510
          description: green
        - emission_lambda: 605
          description: red
  TwoPhotonSeries:
    - description: raw frames
      pmt_gain: 0.6
      comments: PMT 1 at 0.6
"""


@pytest.fixture
def scan(write):
    return read_scan(write(ScanSpec(rois=(SMALL,), channels=(1, 2), num_frames=16)).paths)


def test_a_yaml_file_fills_the_session_subject_and_microscope(scan, tmp_path):
    meta = tmp_path / "meta.yaml"
    meta.write_text(YAML)
    out = scan.to_nwb(tmp_path / "m.nwb", meta)
    io, nwbfile = read_back(out)
    with io:
        assert nwbfile.session_description == "Mouse 12, V1, day 3"
        assert list(nwbfile.experimenter) == ["Doe", "Jane"]
        assert (nwbfile.institution, nwbfile.lab) == ("Some University", "Some Lab")
        assert nwbfile.session_id == "20211105"
        assert list(nwbfile.keywords[:]) == ["two-photon", "V1"]
        assert nwbfile.notes.startswith("imaged through a cranial window\n")
        subject = nwbfile.subject
        assert (subject.subject_id, subject.species, subject.sex, subject.age) == (
            "m12", "Mus musculus", "F", "P90D",
        )  # fmt: skip
        assert subject.weight == "0.025 kg"
        assert subject.date_of_birth.date() == dt.date(2021, 8, 1)
        device = nwbfile.devices["Scope"]
        assert device.description.startswith("resonant two-photon microscope; ")
        assert (device.model.name, device.model.manufacturer) == ("Bergamo II", "Thorlabs")
        plane = nwbfile.imaging_planes["ImagingPlaneField1"]
        assert (plane.indicator, plane.location, plane.excitation_lambda) == (
            "GCaMP6s", "VISp", 920.0,
        )  # fmt: skip
        assert [c.emission_lambda for c in plane.optical_channel] == [510.0, 605.0]
        assert plane.optical_channel[1].description == "red; ScanImage channel 2 ('Channel 2')"
        series = nwbfile.acquisition["TwoPhotonSeriesField1Ch2"]
        assert series.description.startswith("raw frames; field 1 of scan_00001")
        assert series.pmt_gain == 0.6
        assert series.comments.startswith("PMT 1 at 0.6; pixels exactly as")
        # the epoch (2021-11-05 09:50:13.560 on the rig) read in New York, as the YAML says
        assert nwbfile.session_start_time.isoformat() == "2021-11-05T09:50:13.560000-04:00"
        assert "in the metadata's timezone America/New_York (UTC-04:00)" in nwbfile.notes
    assert_dandi_ready(out)


@pytest.mark.parametrize(
    ("zone", "iso"),
    [
        ("UTC", "2021-11-05T09:50:13.560000+00:00"),
        ("+05:30", "2021-11-05T09:50:13.560000+05:30"),
        ("Europe/Berlin", "2021-11-05T09:50:13.560000+01:00"),
    ],
)
def test_the_epoch_is_read_in_the_timezone_given(scan, tmp_path, zone, iso):
    out = scan.to_nwb(tmp_path / "z.nwb", {"timezone": zone})
    io, nwbfile = read_back(out)
    with io:
        assert nwbfile.session_start_time.isoformat() == iso
        assert nwbfile.timestamps_reference_time == nwbfile.session_start_time


@pytest.fixture
def tokyo_is_local(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_without_a_timezone_the_local_one_is_used_and_said(scan, tmp_path, tokyo_is_local):
    out = scan.to_nwb(tmp_path / "local.nwb")
    io, nwbfile = read_back(out)
    with io:
        assert nwbfile.session_start_time.isoformat() == "2021-11-05T09:50:13.560000+09:00"
        assert (
            "read in the converting computer's local time zone, UTC+09:00 (JST), because "
            "the metadata gives no timezone" in nwbfile.notes
        )
        assert "2021-11-05 09:50:13.560 on the rig computer's clock" in nwbfile.notes


def test_a_start_time_in_the_metadata_wins(scan, tmp_path):
    given = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    out = scan.to_nwb(tmp_path / "s.nwb", {"NWBFile": {"session_start_time": given}})
    io, nwbfile = read_back(out)
    with io:
        assert nwbfile.session_start_time == given
        assert "session_start_time: given in the metadata." in nwbfile.notes
    naive = {"timezone": "UTC", "NWBFile": {"session_start_time": "2020-01-02T03:04:05"}}
    out = scan.to_nwb(tmp_path / "n.nwb", naive)
    io, nwbfile = read_back(out)
    with io:
        assert nwbfile.session_start_time.isoformat() == "2020-01-02T03:04:05+00:00"


def test_one_imaging_plane_entry_per_field(write, tmp_path):
    scan = read_scan(write(ScanSpec(rois=STRIPS, num_frames=32)).paths)
    planes = [{"location": area, **META["Ophys"]["ImagingPlane"][0]} for area in ("VISp", "VISl")]
    for plane, area in zip(planes, ("VISp", "VISl", "VISal"), strict=False):
        plane["location"] = area
    planes.append({"location": "VISal", "indicator": "GCaMP6s", "excitation_lambda": 920.0})
    meta = {**META, "Ophys": {"ImagingPlane": planes}}
    out = scan.to_nwb(tmp_path / "p.nwb", meta)
    io, nwbfile = read_back(out)
    with io:
        assert [nwbfile.imaging_planes[f"ImagingPlaneField{n}"].location for n in (1, 2, 3)] == [
            "VISp", "VISl", "VISal",
        ]  # fmt: skip
    with pytest.raises(ExportError, match=r"Ophys.ImagingPlane has 2 entries; give one"):
        scan.to_nwb(tmp_path / "q.nwb", {"Ophys": {"ImagingPlane": planes[:2]}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NWBFile: [unclosed", r"meta.yaml: invalid YAML at line 1: expected ',' or ']'"),
        ("Subject:\n  subjectid: m1\n", r"meta.yaml: unknown key Subject.subjectid \(known: "),
        ("Sbuject:\n  subject_id: m1\n", r"meta.yaml: unknown key Sbuject"),
        ("Ophys:\n  ImagingPlane:\n    - excitation_lambda: nine hundred\n",
         r"Ophys.ImagingPlane\[0\].excitation_lambda must be number, not 'nine hundred'"),
        ("Ophys:\n  ImagingPlane:\n    - optical_channel:\n        - emission_lambda: 5\n"
         "          colour: green\n",
         r"unknown key Ophys.ImagingPlane\[0\].optical_channel\[0\].colour"),
        ("timezone: Mars/Olympus_Mons\n", r"timezone 'Mars/Olympus_Mons' is not a time zone"),
        ("NWBFile:\n  data_collection: notes\n", r"NWBFile.data_collection is written by"),
        ("NWBFile:\n  session_start_time: last tuesday\n",
         r"NWBFile.session_start_time must be date and time"),
        ("- just\n- a list\n", r"the metadata must be a mapping of sections"),
        ("Ophys:\n  Device: [{name: a}, {name: b}]\n", r"Ophys.Device has 2 entries"),
    ],
)  # fmt: skip
def test_bad_metadata_is_one_error_naming_the_key(tmp_path, text, message):
    meta = tmp_path / "meta.yaml"
    meta.write_text(text)
    with pytest.raises(ExportError, match=message):
        load_metadata(meta)


def test_bad_metadata_stops_before_any_file_is_written(scan, tmp_path):
    with pytest.raises(ExportError, match=r"unknown key Subject\.colour"):
        scan.to_nwb(tmp_path / "x.nwb", {"Subject": {"colour": "brown"}})
    with pytest.raises(ExportError, match="cannot read the metadata file"):
        scan.to_nwb(tmp_path / "x.nwb", tmp_path / "missing.yaml")
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []


def test_an_empty_yaml_file_means_defaults(tmp_path):
    meta = tmp_path / "empty.yaml"
    meta.write_text("# nothing yet\n")
    checked = load_metadata(meta)
    assert (checked.subject, checked.nwbfile, checked.timezone) == (None, {}, None)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        ([2023, 7, 24, 14, 14, 17.854], dt.datetime(2023, 7, 24, 14, 14, 17, 854000)),
        ([1601, 1, 1, 0, 0, 25.045], dt.datetime(1601, 1, 1, 0, 0, 25, 45000)),  # simulated
        ([12, 0, 18514, 60545, 32, 47.176], None),  # seen in the wild: no date
        ([2021, 11, 5], None),
        ("2021-11-05", None),
    ],
)
def test_epochs_as_scanimage_writes_them(epoch, expected):
    assert epoch_time(epoch) == expected


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"Ophys": {"Device": [{"model": "Bergamo II"}]}}, r"model needs a manufacturer"),
        (
            {"Ophys": {"ImagingPlane": [{"optical_channel": [{}, {}, {}]}]}},
            r"optical_channel has 3 entries; give one for every channel or one per exported "
            r"channel \(2\)",
        ),
    ],
)
def test_metadata_that_does_not_fit_the_scan_is_an_error(scan, tmp_path, meta, message):
    with pytest.raises(ExportError, match=message):
        scan.to_nwb(tmp_path / "x.nwb", meta)
    assert not (tmp_path / "x.nwb").exists()
