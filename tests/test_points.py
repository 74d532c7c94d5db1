"""lumacodec.points: colour points, their checks and the points file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lumacodec.errors import LumacodecError
from lumacodec.points import (
    DEFAULT_RADIUS,
    Point,
    check_points,
    load_keyframes,
    load_points,
    make_point,
    parse_colour,
    points_document,
    save_points,
    scaled,
)


@pytest.mark.parametrize(("value", "rgb"), [
    ("#c0392b", (192, 57, 43)), ("C0392B", (192, 57, 43)), ("#fa0", (255, 170, 0)),
    ([1, 2, 3], (1, 2, 3)), ((0, 255, 128), (0, 255, 128)),
])
def test_parse_colour(value: object, rgb: tuple[int, int, int]) -> None:
    assert parse_colour(value) == rgb


@pytest.mark.parametrize("value", ["red", "#12345", "#gggggg", [1, 2], [0, 0, 256], [1.5, 2, 3],
                                   [True, 0, 0], None])
def test_parse_colour_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_colour(value)


def test_make_point_forms() -> None:
    assert make_point((3, 4, "#010203")) == Point(3.0, 4.0, (1, 2, 3), DEFAULT_RADIUS)
    assert make_point((3, 4, [1, 2, 3], 7)).radius == 7
    assert make_point({"x": 1.5, "y": 2, "color": "#000"}) == Point(1.5, 2.0, (0, 0, 0))
    p = Point(1, 2, (3, 4, 5), 1)
    assert make_point(p) == p and p.hex == "#030405"
    for bad in [{"x": 1, "colour": "#000"}, {"x": 1, "y": 1}, {"x": 1, "y": 1, "colour": "#000",
                                                              "size": 2},
                (1, 2), (1, 2, "#000", -1), (1, 2, "#000", 65), (float("nan"), 1, "#000"),
                ("1", 2, "#000")]:
        with pytest.raises(ValueError):
            make_point(bad)  # type: ignore[arg-type]


def test_check_points_names_the_bad_point() -> None:
    good = check_points([(0, 0, "#fff"), (9.9, 4.5, "#000")], 10, 5)
    assert [p.x for p in good] == [0.0, 9.9]
    with pytest.raises(LumacodecError, match=r"^pts: point 1 at \(10, 0\) is outside the 10×5"):
        check_points([(0, 0, "#fff"), (10, 0, "#fff")], 10, 5, "pts")
    with pytest.raises(LumacodecError, match="point 0: colour 'blue'"):
        check_points([(0, 0, "blue")], 10, 5)


def test_scaled() -> None:
    assert scaled(Point(10, 4, (1, 2, 3), 3), 2) == Point(20, 8, (1, 2, 3), 6)


def test_points_file_round_trip_and_scaling(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    pts = [Point(12, 7.5, (200, 10, 20), 2), Point(0, 0, (1, 2, 3))]
    save_points(path, pts, 40, 20)
    doc = json.loads(path.read_text())
    assert doc["width"] == 40 and doc["points"][0] == {"x": 12, "y": 7.5, "colour": "#c80a14",
                                                         "radius": 2}
    assert load_points(path, 40, 20) == pts
    double = load_points(path, 80, 40)  # placed on a smaller copy of the same photo
    assert double[0] == Point(24, 15, (200, 10, 20), 4)
    (tmp_path / "bare.json").write_text(json.dumps([[1, 2, "#fff"]]))
    assert load_points(tmp_path / "bare.json", 5, 5) == [Point(1, 2, (255, 255, 255))]


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"), ("{", "not a JSON points file"), ('{"pts": []}', "not a points file"),
    ('{"version": 9, "points": []}', "version 9 is not supported"),
    ('{"points": [{"x": 1, "y": 1, "colour": "#zzzzzz"}]}', "point 0: colour"),
    ('{"points": [[1, 1, "#fff"], [50, 1, "#fff"]]}', "point 1 at"),
    ('{"width": 0, "height": 5, "points": []}', "must be positive"),
])
def test_bad_points_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(LumacodecError, match=message) as info:
        load_points(path, 10, 10)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_points_file(tmp_path: Path) -> None:
    with pytest.raises(LumacodecError, match="no such file"):
        load_points(tmp_path / "none.json", 10, 10)


def test_keyframes(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": 1, "width": 10, "height": 10, "keyframes": [
        {"frame": 0, "points": [[1, 1, "#f00"]]}, {"frame": 24, "points": [[5, 5, "#00f"]]}]}))
    frames = load_keyframes(path, 20, 20)
    assert sorted(frames) == [0, 24] and frames[24][0] == Point(10, 10, (0, 0, 255), 6)
    path.write_text(json.dumps({"keyframes": [{"frame": 3, "points": []},
                                              {"frame": 3, "points": []}]}))
    with pytest.raises(LumacodecError, match="keyframe 1: frame 3 given twice"):
        load_keyframes(path, 20, 20)
    save_points(path, [Point(1, 1, (0, 0, 0))], 20, 20)  # a plain points file is frame 0
    assert list(load_keyframes(path, 20, 20)) == [0]


def test_document_is_what_load_reads(tmp_path: Path) -> None:
    doc = points_document([Point(1.25, 2, (9, 9, 9), 0)], 4, 4)
    (tmp_path / "d.json").write_text(json.dumps(doc))
    assert load_points(tmp_path / "d.json", 4, 4) == [Point(1.25, 2, (9, 9, 9), 0)]
