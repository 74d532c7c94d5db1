"""The studio's web application: the page and the small JSON/PNG API it talks to.

Flask (with Werkzeug's server) because the page needs a handful of routes, multipart uploads
and a request-size limit, which Flask gives in a few lines and well-tested code; there is no
JavaScript build step, the page is three static files.

Routes (``<id>``: a photo the server holds; the last :data:`MAX_SESSIONS` are kept)::

    GET  /                          the page
    GET  /api/initial               the photo given on the command line, if any
    POST /api/photo                 upload a photo (multipart "file")  → {id, width, height, name}
    POST /api/photo/<id>/reference  upload a reference photo                 → {ok}
    DELETE /api/photo/<id>/reference
    POST /api/photo/<id>/colour     {points, colour}                         → preview PNG
    POST /api/photo/<id>/save       {points, colour, scale}                  → full-size PNG
    POST /api/photo/<id>/points     {points}                                 → points file (JSON)
    POST /api/photo/<id>/points/load  upload a points file                   → {points}

Every error is JSON ``{"error": "one line"}`` with status 400 (413 for an upload over
:data:`MAX_UPLOAD_BYTES`).
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from importlib import resources
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import weights
from ..errors import LumacodecError
from ..files import image_from_bytes
from ..points import MAX_FILE_BYTES, points_from_document
from .session import PhotoSession, timed

#: Largest upload (photo, reference or points file).
MAX_UPLOAD_BYTES = 64 << 20
#: Photos kept in memory (a page that uploads a new one drops the oldest).
MAX_SESSIONS = 4


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def create_app(photo: PhotoSession | None = None,
               networks: weights.NetworkSet | None = None) -> Flask:
    """The studio application, holding ``photo`` (the command line's) from the start."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    sessions: OrderedDict[str, PhotoSession] = OrderedDict()
    initial: dict[str, Any] = {}

    def keep(session: PhotoSession) -> dict[str, Any]:
        key = uuid.uuid4().hex
        sessions[key] = session
        while len(sessions) > MAX_SESSIONS:
            sessions.popitem(last=False)
        return {"id": key, "width": session.width, "height": session.height,
                "name": session.name, "reference": session.reference is not None}

    if photo is not None:
        initial.update(keep(photo))

    def session_of(key: str) -> PhotoSession:
        if key not in sessions:
            raise LumacodecError("this photo is no longer loaded: open it again")
        return sessions[key]

    def upload() -> tuple[bytes, str]:
        file = request.files.get("file")
        if file is None:
            raise LumacodecError("no file in the upload")
        return file.read(), file.filename or "upload"

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise LumacodecError("the request is not a JSON object")
        return data

    def png(data: bytes, seconds: float, filename: str | None = None) -> Response:
        resp = Response(data, mimetype="image/png")
        resp.headers["X-Seconds"] = f"{seconds:.3f}"
        resp.headers["Cache-Control"] = "no-store"
        if filename:
            resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return resp

    @app.errorhandler(LumacodecError)
    def bad_input(exc: LumacodecError) -> tuple[Response, int]:
        return jsonify(error=str(exc)), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> tuple[Response, int]:
        return jsonify(error=f"the upload is larger than {MAX_UPLOAD_BYTES >> 20} MB"), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.description or exc.name), exc.code or 500

    @app.get("/")
    def page() -> Response:
        return Response(_static("index.html"), mimetype="text/html")

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        types = {".js": "text/javascript", ".css": "text/css"}
        kind = next((t for ext, t in types.items() if name.endswith(ext)), None)
        if kind is None or "/" in name:
            raise LumacodecError(f"no such file: {name}")
        try:
            return Response(_static(name), mimetype=kind)
        except FileNotFoundError:
            raise LumacodecError(f"no such file: {name}") from None

    @app.get("/api/initial")
    def initial_photo() -> Response:
        return jsonify(initial if initial.get("id") in sessions else {})

    @app.post("/api/photo")
    def new_photo() -> Response:
        data, name = upload()
        image = image_from_bytes(data, name)
        return jsonify(keep(PhotoSession(image, name, networks)))

    @app.post("/api/photo/<key>/reference")
    def set_reference(key: str) -> Response:
        session = session_of(key)
        data, name = upload()
        session.set_reference(image_from_bytes(data, name), name)
        return jsonify(ok=True)

    @app.delete("/api/photo/<key>/reference")
    def clear_reference(key: str) -> Response:
        session_of(key).set_reference(None)
        return jsonify(ok=True)

    @app.post("/api/photo/<key>/colour")
    def colour(key: str) -> Response:
        session, args = session_of(key), body()
        data, seconds = timed(session.preview, args.get("points", []),
                              args.get("colour", "vivid"))
        return png(data, seconds)

    @app.post("/api/photo/<key>/save")
    def save(key: str) -> Response:
        session, args = session_of(key), body()
        scale = args.get("scale", 2)
        if isinstance(scale, str) and scale.isdigit():
            scale = int(scale)
        data, seconds = timed(session.save, args.get("points", []),
                              args.get("colour", "vivid"), scale)
        stem = session.name.rsplit(".", 1)[0] or "photo"
        return png(data, seconds, f"{stem}-colour-x{scale}.png")

    @app.post("/api/photo/<key>/points")
    def points_file(key: str) -> Response:
        session = session_of(key)
        doc = session.document(body().get("points", []))
        stem = session.name.rsplit(".", 1)[0] or "photo"
        resp = Response(json.dumps(doc, indent=1) + "\n", mimetype="application/json")
        resp.headers["Content-Disposition"] = f'attachment; filename="{stem}-points.json"'
        return resp

    @app.post("/api/photo/<key>/points/load")
    def load_points(key: str) -> Response:
        session = session_of(key)
        data, name = upload()
        if len(data) > MAX_FILE_BYTES:
            raise LumacodecError(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB")
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LumacodecError(f"{name}: not a JSON points file ({exc})") from None
        pts = points_from_document(doc, session.width, session.height, name)
        return jsonify(points=[{"x": p.x, "y": p.y, "colour": p.hex, "radius": p.radius}
                               for p in pts])

    return app
