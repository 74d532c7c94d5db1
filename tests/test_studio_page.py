"""lumacodec studio end to end in a real headless Chromium (Playwright driving Debian's
``chromium``): the page loads, a click adds a point, the result changes, save returns a PNG.

Skipped, with the reason, where Playwright or a Chromium is missing.  With
``LUMACODEC_STUDIO_SCREENSHOT=path.png`` the page is also photographed (the closing notes'
screenshot)."""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumacodec import weights
from lumacodec.studio.server import make_studio_server

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

CHROMIUM = os.environ.get("LUMACODEC_CHROMIUM") or next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                 shutil.which("chromium-browser") or "") if p and Path(p).exists()), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")


@pytest.fixture
def studio_url(tmp_path: Path, tiny_networks: weights.NetworkSet) -> Iterator[str]:
    y, x = np.mgrid[0:120, 0:180]
    photo = (50 + 130 * (x >= 90) + 10 * np.sin(y / 7)).astype(np.uint8)
    path = tmp_path / "old.png"
    Image.fromarray(photo).save(path)
    server = make_studio_server(str(path), "127.0.0.1", 0, networks=tiny_networks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def pixels(page: sync_api.Page) -> np.ndarray:
    """The result image's pixels, as the page has them (H, W, 3)."""
    w, h, data = page.evaluate("""() => {
        const img = document.getElementById("result");
        const c = document.createElement("canvas");
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        return [c.width, c.height, Array.from(ctx.getImageData(0, 0, c.width, c.height).data)];
    }""")
    return np.array(data, np.uint8).reshape(h, w, 4)[..., :3]


def test_click_colour_and_save(studio_url: str) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700},
                                    accept_downloads=True)
            page.goto(studio_url)
            page.wait_for_selector("#result[data-version='1']")
            before = pixels(page)
            assert page.locator(".mark").count() == 0

            page.locator("#picker").fill("#1f5fd0")
            box = page.locator("#result").bounding_box()
            assert box is not None and box["width"] > 100
            page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
            page.wait_for_selector("#result[data-version='2']")
            assert page.locator(".mark").count() == 1
            after = pixels(page)
            assert after.shape == before.shape == (120, 180, 3)
            a, b = before[60, 45].astype(int), after[60, 45].astype(int)
            assert b[2] - b[0] > a[2] - a[0] + 20  # the clicked region turned blue
            assert "1 point" in page.locator("#status").inner_text()
            if os.environ.get("LUMACODEC_STUDIO_SCREENSHOT"):
                page.screenshot(path=os.environ["LUMACODEC_STUDIO_SCREENSHOT"])

            with page.expect_download() as download:
                page.click("#save")
            saved = Path(download.value.path()).read_bytes()
            assert saved[:8] == b"\x89PNG\r\n\x1a\n"
            assert Image.open(io.BytesIO(saved)).size == (360, 240)  # ×2, the default
            assert download.value.suggested_filename == "old-colour-x2.png"
        finally:
            browser.close()
