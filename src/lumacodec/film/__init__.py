"""Old film: colourise and upscale a black-and-white video, with colour that holds still.

::

    video / folder of frames ─→ video_io (PyAV: frames streamed, audio copied)
        ─→ pipeline: colour_chain (colour carried along propagate's optical flow)
                     + SR ×scale (clean-input networks, still regions held)
        ─→ video_io (H.264, timestamps kept; or PNG frames), written atomically

``lumacodec enhance old.mp4 out.mp4 --scale 2`` runs :func:`enhance_film`; the user guide is
docs/guides/film.md and the measurements benchmarks/results/film.md.
"""

from __future__ import annotations

from .pipeline import FilmSummary, enhance_film
from .video_io import is_film_source, is_video_path

__all__ = ["FilmSummary", "enhance_film", "is_film_source", "is_video_path"]
