"""lumacodec.studio: the page's API (Flask's test client) and its limits."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from lumacodec import weights
from lumacodec.studio import app as studio_app
from lumacodec.studio import create_app
from lumacodec.studio.session import PhotoSession


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def grey(h: int = 40, w: int = 60) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return (60 + 120 * (x >= w // 2) + (y % 5)).astype(np.uint8)


@pytest.fixture
def client(tiny_networks: weights.NetworkSet):  # type: ignore[no-untyped-def]
    return create_app(networks=tiny_networks).test_client()


def open_photo(client, array: np.ndarray | None = None) -> dict:  # type: ignore[no-untyped-def]
    resp = client.post("/api/photo", data={"file": (io.BytesIO(png(
        grey() if array is None else array)), "old.png")})
    assert resp.status_code == 200, resp.json
    return resp.json


def test_page_and_static_files(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code == 200 and b"lumacodec studio" in page.data
    assert client.get("/static/studio.js").mimetype == "text/javascript"
    assert client.get("/static/../app.py").status_code in (400, 404)
    assert client.get("/api/initial").json == {}


def test_colour_save_and_points(client) -> None:  # type: ignore[no-untyped-def]
    info = open_photo(client)
    assert (info["width"], info["height"], info["name"]) == (60, 40, "old.png")
    base = f"/api/photo/{info['id']}"
    auto = client.post(f"{base}/colour", json={"points": [], "colour": "faithful"})
    assert auto.status_code == 200 and auto.mimetype == "image/png"
    assert float(auto.headers["X-Seconds"]) >= 0
    pts = [{"x": 10, "y": 20, "colour": "#1f5fd0", "radius": 3}]
    blue = client.post(f"{base}/colour", json={"points": pts, "colour": "faithful"})
    a, b = (np.asarray(Image.open(io.BytesIO(r.data))).astype(int) for r in (auto, blue))
    assert a.shape == b.shape == (40, 60, 3)
    assert b[20, 10, 2] - b[20, 10, 0] > a[20, 10, 2] - a[20, 10, 0] + 20  # it turned blue
    saved = client.post(f"{base}/save", json={"points": pts, "colour": "vivid", "scale": 2})
    assert saved.status_code == 200 and "old-colour-x2.png" in saved.headers[
        "Content-Disposition"]
    assert Image.open(io.BytesIO(saved.data)).size == (120, 80)
    doc = client.post(f"{base}/points", json={"points": pts})
    assert json.loads(doc.data) == {"version": 1, "width": 60, "height": 40, "points": pts}
    loaded = client.post(f"{base}/points/load",
                         data={"file": (io.BytesIO(doc.data), "old-points.json")})
    assert loaded.json["points"] == [{**pts[0], "x": 10.0, "y": 20.0}]


def test_reference(client) -> None:  # type: ignore[no-untyped-def]
    base = f"/api/photo/{open_photo(client)['id']}"
    ref = np.zeros((30, 30, 3), np.uint8) + np.array([200, 60, 40], np.uint8)
    assert client.post(f"{base}/reference",
                       data={"file": (io.BytesIO(png(ref)), "ref.png")}).json == {"ok": True}
    assert client.post(f"{base}/colour", json={"points": []}).status_code == 200
    bad = client.post(f"{base}/reference", data={"file": (io.BytesIO(png(grey())), "g.png")})
    assert bad.status_code == 400 and bad.json["error"] == "g.png is grey: it has no colour to give"
    assert client.delete(f"{base}/reference").json == {"ok": True}


@pytest.mark.parametrize(("path", "body", "message"), [
    ("colour", {"points": [{"x": 99, "y": 1, "colour": "#fff"}]}, "point 0 at (99, 1)"),
    ("colour", {"points": [{"x": 1, "y": 1, "colour": "pink"}]}, "point 0: colour 'pink'"),
    ("colour", {"points": [], "colour": "loud"}, "colour must be one of"),
    ("save", {"points": [], "scale": 3}, "scale must be one of"),
    ("colour", [1, 2], "not a JSON object"),
])
def test_bad_requests_are_one_line_errors(client, path: str, body: object,  # type: ignore[no-untyped-def]
                                          message: str) -> None:
    base = f"/api/photo/{open_photo(client)['id']}"
    resp = client.post(f"{base}/{path}", json=body)
    assert resp.status_code == 400 and message in resp.json["error"]
    assert "\n" not in resp.json["error"]


def test_bad_uploads(client, tiny_networks: weights.NetworkSet,  # type: ignore[no-untyped-def]
                     monkeypatch: pytest.MonkeyPatch) -> None:
    resp = client.post("/api/photo", data={"file": (io.BytesIO(b"not an image"), "x.png")})
    assert resp.status_code == 400 and resp.json["error"].startswith("x.png is not a readable")
    assert client.post("/api/photo").json["error"] == "no file in the upload"
    gone = client.post("/api/photo/feed/colour", json={"points": []})
    assert gone.status_code == 400 and "no longer loaded" in gone.json["error"]
    base = f"/api/photo/{open_photo(client)['id']}"
    bad_points = client.post(f"{base}/points/load", data={"file": (io.BytesIO(b"{"), "p.json")})
    assert bad_points.status_code == 400 and "p.json: not a JSON points file" in \
        bad_points.json["error"]
    monkeypatch.setattr(studio_app, "MAX_UPLOAD_BYTES", 1000)
    small = create_app(networks=tiny_networks)
    big = small.test_client().post("/api/photo", data={"file": (io.BytesIO(bytes(5000)), "b")})
    assert big.status_code == 413 and "larger than" in big.json["error"]


def test_pixel_limits(tiny_networks: weights.NetworkSet, monkeypatch: pytest.MonkeyPatch) -> None:
    from lumacodec.errors import LumacodecError
    from lumacodec.studio import session

    monkeypatch.setattr(session, "MAX_PHOTO_PIXELS", 100)
    with pytest.raises(LumacodecError, match="more than the studio's"):
        PhotoSession(Image.fromarray(grey()), "big.png", tiny_networks)
    monkeypatch.setattr(session, "MAX_PHOTO_PIXELS", 10**9)
    monkeypatch.setattr(session, "MAX_OUTPUT_PIXELS", 5000)
    photo = PhotoSession(Image.fromarray(grey()), "p.png", tiny_networks)
    with pytest.raises(LumacodecError, match="megapixels"):
        photo.save([], scale=2)


def test_initial_photo(tiny_networks: weights.NetworkSet) -> None:
    photo = PhotoSession(Image.fromarray(grey()), "first.png", tiny_networks)
    client = create_app(photo, tiny_networks).test_client()
    info = client.get("/api/initial").json
    assert info["name"] == "first.png" and info["width"] == 60
    assert client.post(f"/api/photo/{info['id']}/colour", json={}).status_code == 200
