"""The API reference's checks: undocumented public objects, and references that name nothing.

- A public function, class or method that the reference shows but that has no docstring is
  a warning (autodoc would leave it out without a word), an error under ``-W``.
- A Python cross-reference (``:func:`encode_files```) resolves as Python would find the
  name: a documented object first (the last part of its name is enough when it is unique);
  then, for a lumacodec object that exists but that the reference does not document (an
  internal module's helper named in a docstring), it is shown as code, unlinked.  A name that
  is neither documented nor an object of lumacodec stays a warning: a typo or a renamed
  function fails the build.
"""

from __future__ import annotations

import importlib
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

_CHECKED = {"function", "class", "exception", "method"}


def _check(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    short = name.rsplit(".", 1)[-1]
    if what not in _CHECKED or short.startswith("_"):
        return
    if not str(getattr(obj, "__module__", "")).startswith("lumacodec"):
        return  # a name a module imports (autodoc looks at it, then leaves it out)
    if not any(line.strip() for line in lines):
        logger.warning("public %s %s has no docstring", what, name, type="lumacodec",
                       subtype="undocumented")


def lumacodec_object(dotted: str) -> bool:
    """Whether ``dotted`` names a module or an attribute of a module of lumacodec."""
    if dotted != "lumacodec" and not dotted.startswith("lumacodec."):
        return False
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def _resolve(app: Sphinx, env: BuildEnvironment, node: pending_xref,
             contnode: nodes.TextElement) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    module = node.get("py:module")
    domain = env.get_domain("py")
    matches = domain.find_obj(env, module, node.get("py:class"), target, node["reftype"], 1)
    found = {(entry.docname, entry.node_id): name for name, entry in matches}
    if len(found) == 1:  # one object (a class documented under two names counts once)
        (docname, node_id), name = found.popitem()
        return make_refnode(app.builder, node["refdoc"], docname, node_id, contnode, name)
    candidates = [target, f"lumacodec.{target}"]
    if module:
        candidates.insert(0, f"{module}.{target}")
    if any(lumacodec_object(name) for name in candidates):
        return contnode
    return None


def _napoleon(app: Sphinx, what: str, name: str, obj: Any, options: Any,
              lines: list[str]) -> None:
    """Napoleon's NumPy sections (Parameters, Returns, Raises), except on attributes: there it
    would read a ``#:`` comment's "Words: more words" as a type and a description."""
    from sphinx.ext import napoleon

    if what not in ("attribute", "data", "property"):
        napoleon._process_docstring(app, what, name, obj, options, lines)


def _signature(app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None,
               return_annotation: str | None) -> tuple[str | None, str | None] | None:
    """A dataclass field's ``default_factory`` shows as ``<factory>``, which Sphinx cannot
    parse as a default (the whole signature then falls apart): show ``...`` instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    from sphinx.ext import napoleon

    app.setup_extension("sphinx.ext.napoleon")
    for listener in list(app.events.listeners.get("autodoc-process-docstring", [])):
        if listener.handler is napoleon._process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon)
    app.connect("autodoc-process-docstring", _check)
    app.connect("autodoc-process-signature", _signature)
    app.connect("missing-reference", _resolve)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
