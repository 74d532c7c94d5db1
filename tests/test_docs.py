"""The documentation site (docs/): it builds with warnings as errors, its reference shows every
CLI command and flag and every public name, and no internal link of it is broken.

The site is built once per session (about 20 s) unless ``LUMACODEC_DOCS_HTML`` names a build
already made by ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (.ci/run
makes one just before the tests).  Skipped, with the reason, without the ``docs`` extra.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import pytest

import lumacodec
from lumacodec.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NEEDED = ("sphinx", "myst_parser", "sphinx_click", "furo")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built HTML site."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)}): "
                    "pip install -e '.[docs]'")
    given = os.environ.get("LUMACODEC_DOCS_HTML")
    if given:
        html = Path(given)
        if not html.is_absolute():
            html = ROOT / html
        assert (html / "index.html").is_file(), f"LUMACODEC_DOCS_HTML={given}: no index.html"
        return html
    out = tmp_path_factory.mktemp("docs") / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out), "-d", str(out.parent / "doctrees")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, f"the -W build failed:\n{done.stderr[-6000:]}"
    return out


class _Page(HTMLParser):
    """The ids and the links of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "img" and values.get("src"):
            self.links.append(values["src"])


def _pages(site: Path) -> dict[Path, _Page]:
    pages = {}
    for path in site.rglob("*.html"):
        if "_static" in path.relative_to(site).parts:
            continue
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = page
    return pages


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    """Every command under ``group``, by its full name (``lumacodec encode``)."""
    found = [(prefix, group)]
    ctx = click.Context(group, info_name=prefix)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


def test_cli_reference_has_every_command_and_flag(site: Path) -> None:
    """docs/cli.md is generated from the click group: every command has its section and every
    option (each of its spellings) and argument its entry."""
    ids = _pages(site)[(site / "cli.html").resolve()].ids
    commands = _commands(main, "lumacodec")
    assert len(commands) >= 7, commands  # encode, decode, info, enhance, bench, demo, ...
    missing = []
    for full_name, command in commands:
        program = full_name.replace(" ", "-")
        if program not in ids:
            missing.append(f"section {program}")
        for param in command.params:
            if isinstance(param, click.Argument):
                wanted = [f"cmdoption-{program}-arg-{param.name.upper()}"]
            elif param.name == "help":
                continue
            else:
                wanted = [f"cmdoption-{program}-{opt.lstrip('-')}"
                          for opt in (*param.opts, *param.secondary_opts)]
            missing += [anchor for anchor in wanted if anchor not in ids]
    assert not missing, f"not in the CLI reference: {missing}"


def test_api_reference_has_every_public_name(site: Path) -> None:
    """Every name of ``lumacodec.__all__`` is documented as ``lumacodec.<name>``, and so are
    the other objects the issue names (guided colour, points, the Pillow plugin, batch, Ray,
    bench)."""
    ids: set[str] = set()
    for path, page in _pages(site).items():
        if "api" in path.parts:
            ids |= page.ids
    wanted = [f"lumacodec.{name}" for name in lumacodec.__all__]
    wanted += ["lumacodec.guided.guided_colour", "lumacodec.points.Point",
               "lumacodec.points.load_points", "lumacodec.pillow_plugin.LmcImageFile",
               "lumacodec.batch.Summary", "lumacodec.ray_engine.results",
               "lumacodec.bench.run_bench"]
    missing = [name for name in wanted if name not in ids]
    assert not missing, f"not in the API reference: {missing}"


def test_no_broken_internal_link(site: Path) -> None:
    """Every link between pages of the site, and every image, leads to a file of the build,
    and every #anchor to an id of its page (Sphinx's -W build checks the cross-references;
    this checks the HTML it wrote, links of the theme included)."""
    pages = _pages(site)
    broken = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("mailto:"):
                continue  # external: not checked here (the build runs offline)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link}")
            elif parts.fragment and target in pages and parts.fragment not in pages[target].ids:
                broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_site_is_ignored_by_git() -> None:
    """docs/_build is never committed."""
    done = subprocess.run(["git", "check-ignore", "-q", "docs/_build/html/index.html"],
                          cwd=ROOT, capture_output=True)
    if done.returncode == 128:
        pytest.skip("not a git checkout")
    assert done.returncode == 0, "docs/_build is not git-ignored"


def test_comparison_page_is_generated_and_small() -> None:
    """docs/comparison.md is docs/make_comparison.py's output, and its images (small JPEGs,
    committed) are under 3 MB in all."""
    text = (DOCS / "comparison.md").read_text(encoding="utf-8")
    assert "make_comparison.py" in text
    images = sorted((DOCS / "_static" / "comparison").glob("*.jpg"))
    assert images, "no comparison images"
    for name in re.findall(r"_static/comparison/([\w.-]+\.jpg)", text):
        assert (DOCS / "_static" / "comparison" / name).is_file(), name
    assert sum(p.stat().st_size for p in images) < 3_000_000
