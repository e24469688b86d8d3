"""Per-page descriptions: key = value text, JSON, and the fast single-number reader."""

from __future__ import annotations

import math

import pytest

from napari_scanimage.format.descriptions import parse_description, read_number

# SI 2016 linear-scan description (ScanImageTiffReader.jl test_linfreej_00001.jl):
# two spaces after '=' and *empty* trigger timestamps.
LINEAR_2016 = (
    "frameNumbers = 1\n"
    "acquisitionNumbers = 1\n"
    "frameNumberAcquisition = 1\n"
    "frameTimestamps_sec = 0.000000000\n"
    "acqTriggerTimestamps_sec = \n"
    "nextFileMarkerTimestamps_sec = \n"
    "endOfAcquisition =  0\n"
    "endOfAcquisitionMode = 0\n"
    "dcOverVoltage = 0\n"
    "epoch = [2016 4 12 14 56 26.123]\n"
)


# -- parse_description: key = value -----------------------------------------------------------


def test_empty_values_are_none():
    values = parse_description(LINEAR_2016)
    assert values["acqTriggerTimestamps_sec"] is None
    assert values["nextFileMarkerTimestamps_sec"] is None
    assert values["endOfAcquisition"] == 0
    assert values["frameTimestamps_sec"] == 0.0
    assert values["epoch"] == [2016, 4, 12, 14, 56, 26.123]
    assert list(values) == [
        "frameNumbers",
        "acquisitionNumbers",
        "frameNumberAcquisition",
        "frameTimestamps_sec",
        "acqTriggerTimestamps_sec",
        "nextFileMarkerTimestamps_sec",
        "endOfAcquisition",
        "endOfAcquisitionMode",
        "dcOverVoltage",
        "epoch",
    ]


def test_padding_and_odd_lines_are_ignored():
    text = (
        "frameNumbers = 5\r\n"
        "<output truncated>\r\n"
        " = 7\n"
        "\n"
        "auxTrigger0 = []\n"
        "I2CData = {}\n"
        "note = 'a = b'\n" + " " * 300 + "\0"
    )
    assert parse_description(text) == {
        "frameNumbers": 5,
        "auxTrigger0": [],
        "I2CData": [],
        "note": "a = b",
    }


def test_blank_description():
    assert parse_description(" " * 2000 + "\0") == {}
    assert parse_description("") == {}


# -- parse_description: JSON -----------------------------------------------------------------


def test_json_description_with_matlab_encodings():
    text = (
        '{"frameNumbers": 3, "frameTimestamps_sec": 0.1, "acqTriggerTimestamps_sec": "-_Inf_",'
        ' "nextFileMarkerTimestamps_sec": "_Inf_", "epoch": [2018,10,9,11,58,49.866],'
        ' "I2CData": {"_ArrayType_": "double", "_ArraySize_": [0, 0], "_ArrayData_": null}}'
    )
    values = parse_description("\n" + text + "\n" + " " * 500 + "\0")
    assert values == {
        "frameNumbers": 3,
        "frameTimestamps_sec": 0.1,
        "acqTriggerTimestamps_sec": -math.inf,
        "nextFileMarkerTimestamps_sec": math.inf,
        "epoch": [2018, 10, 9, 11, 58, 49.866],
        "I2CData": [],
    }


def test_2015_json_keeps_the_frame_header_nested():
    text = '{"FrameHeader": {"frameNumbers": 9, "frameTimestamps_sec": 0.3}, "other": 1}'
    assert parse_description(text) == {"frameNumbers": 9, "frameTimestamps_sec": 0.3}


def test_frame_header_that_is_not_an_object_is_an_ordinary_key():
    text = '{"FrameHeader": "n/a", "frameNumbers": 2}'
    assert parse_description(text) == {"FrameHeader": "n/a", "frameNumbers": 2}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"frameNumbers": 3, "epoch": [2018,', id="cut-short"),
        pytest.param("{frameNumbers = 3}", id="not-json"),
        pytest.param('{"frameNumbers": 1} trailing', id="trailing-text"),
    ],
)
def test_malformed_json_gives_nothing(text):
    assert parse_description(text) == {}


def test_json_that_decodes_to_a_non_object_gives_nothing():
    text = '{"_ArrayType_": "double", "_ArraySize_": [1, 2], "_ArrayData_": [1, 2]}'
    assert parse_description(text) == {}


def test_deeply_nested_json_gives_nothing():
    """Nesting deeper than Python's recursion limit still fits a 2000-character slot."""
    depth = 900
    text = '{"I2CData": ' + "[" * depth + "]" * depth + "}"
    assert len(text) < 2000
    assert parse_description(text) == {}


# -- read_number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("frameNumbers", 1.0),
        ("frameTimestamps_sec", 0.0),
        ("endOfAcquisition", 0.0),
        ("dcOverVoltage", 0.0),
    ],
)
def test_read_number_key_value(key, expected):
    value = read_number(LINEAR_2016, key)
    assert value == expected
    assert isinstance(value, float)


@pytest.mark.parametrize(
    "key",
    [
        "acqTriggerTimestamps_sec",  # empty: the next line's value is not taken
        "nextFileMarkerTimestamps_sec",  # empty, followed by 'endOfAcquisition'
        "epoch",  # a matrix, not a number
        "auxTrigger0",  # absent
        "Timestamps_sec",  # only a suffix of real keys
        "frameNumber",  # only a prefix of real keys
    ],
)
def test_read_number_missing_or_not_a_number(key):
    assert read_number(LINEAR_2016, key) is None


@pytest.mark.parametrize(
    "text",
    [
        "frameTimestamps_sec = 'late'",
        "frameTimestamps_sec = e",  # looks numeric to the pattern, float() refuses it
        "frameTimestamps_sec = -",
        "frameTimestamps_sec = 1.2.3",
        "frameTimestamps_sec = true",
        '{"frameTimestamps_sec": null}',
        '{"frameTimestamps_sec": []}',
    ],
)
def test_read_number_non_numeric_value(text):
    assert read_number(text, "frameTimestamps_sec") is None


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("nextFileMarkerTimestamps_sec = -1.000000000", "nextFileMarkerTimestamps_sec", -1.0),
        ("frameTimestamps_sec = 1.5e+03", "frameTimestamps_sec", 1500.0),
        ("frameTimestamps_sec=2E-3", "frameTimestamps_sec", 0.002),
        ("frameTimestamps_sec = Inf", "frameTimestamps_sec", math.inf),
        ('{"frameNumbers": 3, "frameTimestamps_sec": 0.25}', "frameTimestamps_sec", 0.25),
        ('{"FrameHeader": {"frameNumbers": 7}}', "frameNumbers", 7.0),
    ],
)
def test_read_number_values(text, key, expected):
    assert read_number(text, key) == expected


def test_read_number_nan():
    value = read_number("frameTimestamps_sec = NaN", "frameTimestamps_sec")
    assert value is not None
    assert math.isnan(value)


def test_read_number_takes_the_first_occurrence():
    assert read_number("frameNumbers = 4\nframeNumbers = 5", "frameNumbers") == 4.0


@pytest.mark.parametrize(("text", "expected"), [("-Inf", -math.inf), ("+Inf", math.inf)])
def test_read_number_signed_infinity(text, expected):
    description = f"acqTriggerTimestamps_sec = {text}"
    assert parse_description(description) == {"acqTriggerTimestamps_sec": expected}
    assert read_number(description, "acqTriggerTimestamps_sec") == expected


@pytest.mark.parametrize(("word", "expected"), [("_Inf_", math.inf), ("-_Inf_", -math.inf)])
def test_read_number_json_infinity(word, expected):
    description = f'{{"nextFileMarkerTimestamps_sec": "{word}"}}'
    assert parse_description(description) == {"nextFileMarkerTimestamps_sec": expected}
    assert read_number(description, "nextFileMarkerTimestamps_sec") == expected
