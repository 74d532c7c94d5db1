"""Sphinx configuration of the lumacodec documentation site.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (the
``docs`` extra: ``pip install -e ".[docs]"``).  Warnings are errors: a broken internal link,
an unresolved cross-reference (``nitpicky``) or a public function without a docstring fails
the build.

Why Sphinx rather than MkDocs: the Python API comes from the docstrings through autodoc (the
projects of this field, Pillow and CompressAI, do the same), the command line from the click
definitions through sphinx-click, and Sphinx resolves every cross-reference at build time, so
``-W`` turns a broken link or reference into a failure; MyST-Parser reads the repository's
existing Markdown (the spec, the guides, training/README.md, benchmarks/) in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent / "src"))

import lumacodec  # noqa: E402

project = "lumacodec"
author = "the lumacodec authors"
copyright = "the lumacodec authors, MIT licence"
release = lumacodec.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx_click",
    "repo_links",  # docs/_ext: links to repository files that are pages of this site
    "api_checks",  # docs/_ext: undocumented public objects; references that name nothing
    #                (it sets up sphinx.ext.napoleon for the NumPy-style sections)
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "README.md",
    # docs/benchmarks is a link to the repository's benchmarks/ folder: its README and the
    # committed results are pages of the site, read in place (never copied).
    "benchmarks/results/*/cache",
    "benchmarks/results/*/cache/**",
]

# Every cross-reference must resolve.  Third-party types in signatures have no inventory
# here (the build runs offline), so they are named, not linked.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(PIL|numpy|np|torch|click|ray|pathlib|collections|typing|concurrent|os|io)"
               r"(\..*)?"),
    (r"py:.*", r"(Image|ImageFile|ImageLike|PointLike|Sources|Engine|NDArray|Path|Callable|"
               r"Iterable|Iterator|Sequence|Mapping|Any|IO|Literal|StrOrBytesPath)"),
    (r"py:class", r"(optional|default .*|callable|bytes-like)"),
]

# "--enhance" in a help text must stay two hyphens, not become a dash.
smartquotes = False

myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autodoc_default_options = {"undoc-members": True}
napoleon_google_docstring = False  # the docstrings are reST, or NumPy style
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = f"lumacodec {release}"
html_static_path = ["_static"]
html_css_files = ["comparison.css"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False


def _plain_help(app, ctx, lines: list[str]) -> None:  # noqa: ANN001
    """click's help texts are plain text, not reST: a glob such as ``photos/**/*.jpg`` must
    not start emphasis."""
    lines[:] = [line.replace("*", r"\*") for line in lines]


def setup(app):  # noqa: ANN001, ANN201
    for event in ("sphinx-click-process-description", "sphinx-click-process-options",
                  "sphinx-click-process-arguments", "sphinx-click-process-epilog"):
        app.connect(event, _plain_help)
