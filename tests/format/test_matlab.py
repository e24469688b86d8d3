import math

import pytest

from napari_scanimage.format.matlab import parse_matlab_lines, parse_matlab_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("-2.5e-3", -2.5e-3),
        ("'2016b'", "2016b"),
        ("'it''s'", "it's"),
        ("''", ""),
        ("true", True),
        ("false", False),
        ("[]", []),
        ("[5]", 5),
        ("[1 2 3]", [1, 2, 3]),
        ("[1,2,3]", [1, 2, 3]),
        ("[1;2]", [1, 2]),
        ("[1 2;3 4]", [[1, 2], [3, 4]]),
        ("[-135 -135;135 -135]", [[-135, -135], [135, -135]]),
        ("{'a' 'b'}", ["a", "b"]),
        ("{}", []),
        ("{[1 2] 'x'}", [[1, 2], "x"]),
        ("[true false]", [True, False]),
        ("@scanimage.util.foo", "@scanimage.util.foo"),
        ("zeros(0,2)", "zeros(0,2)"),
        ("<nonscalar struct/object>", "<nonscalar struct/object>"),
        ("[1 2", "[1 2"),
        ("'unterminated", "'unterminated"),
    ],
)
def test_values(text, expected):
    assert parse_matlab_value(text) == expected


def test_special_numbers():
    assert parse_matlab_value("Inf") == math.inf
    assert parse_matlab_value("-Inf") == -math.inf
    assert math.isnan(parse_matlab_value("NaN"))
    assert parse_matlab_value("[1 Inf]") == [1, math.inf]


def test_lines_nest_and_tolerate_noise():
    text = "\n".join(
        [
            "SI.VERSION_MAJOR = 2020",
            "SI.hRoiManager.linesPerFrame = 512",
            "SI.hRoiManager.imagingFovUm = [-1 -1;1 1]",
            "this line has no equals sign",
            "SI.hScan2D.virtualChannelSettings__1.source = 'AI0'",
            "SI.hChannels = 3",
            "SI.hChannels.channelSave = [1;2]",
            "",
        ]
    )
    tree = parse_matlab_lines(text)
    assert tree["SI"]["VERSION_MAJOR"] == 2020
    assert tree["SI"]["hRoiManager"] == {"linesPerFrame": 512, "imagingFovUm": [[-1, -1], [1, 1]]}
    assert tree["SI"]["hScan2D"]["virtualChannelSettings__1"]["source"] == "AI0"
    # a key that is both a value and a parent keeps both
    assert tree["SI"]["hChannels"] == {"": 3, "channelSave": [1, 2]}


def test_deep_nesting_does_not_crash():
    text = "[" * 5000 + "]" * 5000
    assert parse_matlab_value(text) == text
