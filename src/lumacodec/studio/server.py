"""Serving the studio: on 127.0.0.1 unless told otherwise, in threads, until Ctrl+C."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable

from werkzeug.serving import BaseWSGIServer, make_server

from .. import weights
from ..errors import LumacodecError
from ..files import read_image
from .app import create_app
from .session import PhotoSession

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def make_studio_server(photo: str | None = None, host: str = DEFAULT_HOST,
                       port: int = DEFAULT_PORT,
                       networks: weights.NetworkSet | None = None) -> BaseWSGIServer:
    """The studio's server, bound (port 0: any free port) but not yet serving; ``photo`` (a
    path) is loaded first, so a bad one is an error before anything listens."""
    session = None
    if photo is not None:
        session = PhotoSession(read_image(photo), str(photo).rsplit("/", 1)[-1], networks)
    _check_free(host, port)
    try:
        return make_server(host, port, create_app(session, networks), threaded=True)
    except OSError as exc:
        raise LumacodecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _check_free(host: str, port: int) -> None:
    """A one-line error if ``host:port`` cannot be bound (Werkzeug would print a paragraph
    and exit)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise LumacodecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(photo: str | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
          open_browser: bool = True, announce: Callable[[str], None] = print) -> None:
    """Serve the studio until interrupted, announcing its URL (and opening it in a browser
    unless ``open_browser`` is false)."""
    server = make_studio_server(photo, host, port)
    url = f"http://{host}:{server.server_port}/"
    announce(f"lumacodec studio: {url}  (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
