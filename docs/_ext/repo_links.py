"""Links to repository files that are pages of this site.

The Markdown of the repository links files by their paths, as GitHub shows them
(``docs/spec/reliability.md`` → ``../../benchmarks/results/bombs.md``).  MyST turns a link
to an existing file outside the Sphinx source folder into a download; when that file is a
page of the site (a document, a document reached through the ``docs/benchmarks`` link, or a
file that a page ``{include}``\\ s), this extension makes the link point at the page instead.
A link to a file that does not exist stays a warning (an error under ``-W``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms import SphinxTransform

_INCLUDE = re.compile(r"^(?:```|:::)\{include\}\s+(\S+)", re.MULTILINE)


def page_of_file(env: BuildEnvironment) -> dict[str, str]:
    """Real path of each file shown as a page → its document name."""
    pages: dict[str, str] = {}
    for docname in sorted(env.found_docs):
        source = str(env.doc2path(docname))
        pages.setdefault(os.path.realpath(source), docname)
        if source.endswith(".md"):
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
            for target in _INCLUDE.findall(text):
                path = os.path.join(os.path.dirname(source), target)
                pages.setdefault(os.path.realpath(path), docname)
    return pages


def _collect(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    env.lumacodec_pages = page_of_file(env)  # type: ignore[attr-defined]


class PageLinks(SphinxTransform):
    """Links to files that are pages become links to those pages.

    Two kinds of node need it: a download reference (a link to an existing file outside the
    source folder, or one that a page includes), and a MyST document reference whose target
    Sphinx resolved through the ``docs/benchmarks`` link to a real path outside the source
    folder (its "docname" is then that absolute path)."""

    default_priority = 100

    def apply(self, **kwargs: Any) -> None:
        pages: dict[str, str] = getattr(self.env, "lumacodec_pages", {})
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "")
            if node.get("refdomain") == "doc" and os.path.isabs(target):
                docname = pages.get(os.path.realpath(target + ".md"))
                if docname is not None:
                    node["reftarget"] = docname
        for node in list(self.document.findall(addnodes.download_reference)):
            _, path = self.env.relfn2path(node["reftarget"], self.env.docname)
            docname = pages.get(os.path.realpath(path))
            if docname is None:
                continue
            explicit = node.get("refexplicit", False)
            xref = addnodes.pending_xref(
                "", refdomain="std", reftype="doc", reftarget="/" + docname,
                refexplicit=explicit, refdoc=self.env.docname, refwarn=True,
            )
            for child in node.children:
                if isinstance(child, nodes.literal) and not explicit:
                    continue  # the page's title stands for the link's text
                xref += child
            node.replace_self(xref)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-before-read-docs", _collect)
    app.add_transform(PageLinks)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
