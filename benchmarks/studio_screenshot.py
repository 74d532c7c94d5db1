"""A screenshot of ``lumacodec studio`` with points placed, for the docs and the notes.

    python benchmarks/studio_screenshot.py --out benchmarks/results/studio-screenshot.png

A grey copy of scikit-image's ``astronaut`` photo is opened in the studio (bundled networks) in
headless Chromium; five points are clicked where a person would click, each in the colour
of the original there (as if the person remembered it), then the page is photographed.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright
from skimage import data

from lumacodec.studio.server import make_studio_server

#: (x, y) as fractions of the photo: suit, face, hair, flag (blue, red), backdrop.
CLICKS = ((0.30, 0.65), (0.44, 0.25), (0.45, 0.10), (0.04, 0.10), (0.12, 0.50), (0.65, 0.20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/studio-screenshot.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    rgb = data.astronaut()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "astronaut-grey.png"
        Image.fromarray(rgb).convert("L").save(path)
        server = make_studio_server(str(path), port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_selector("#result[data-version='1']")
            box = page.locator("#result").bounding_box()
            h, w = rgb.shape[:2]
            for i, (fx, fy) in enumerate(CLICKS):
                colour = "#{:02x}{:02x}{:02x}".format(*rgb[int(fy * h), int(fx * w)])
                page.keyboard.press("Escape")  # the picker recolours a selected point
                page.locator("#picker").fill(colour)
                page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                page.wait_for_selector(f".mark >> nth={i}")
            page.wait_for_function("!document.getElementById('status').textContent"
                                   ".includes('…') && document.querySelectorAll('.mark')"
                                   f".length === {len(CLICKS)}")
            page.wait_for_timeout(1500)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out)
            print(page.locator("#status").inner_text())
            browser.close()
        server.shutdown()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
