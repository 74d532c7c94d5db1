"""``lumacodec studio``: a local web page where a person colours an old photo.

Load a grey photo, click to place colour points (move them, recolour them, delete them),
drop a reference photo of a similar scene, choose vivid or faithful colour and ×1/×2/×4, and
save the PNG and the points file (which ``lumacodec enhance --points`` reads).  The page is
:mod:`lumacodec.studio.app` (Flask) over :mod:`lumacodec.studio.session` (what is cached
per photo); :mod:`lumacodec.guided` does the colouring.
"""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
