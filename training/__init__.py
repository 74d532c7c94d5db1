"""Training of lumacodec's decoder networks (not part of the installed package).

Entry points: ``python -m training.sr --scale 2|4``, ``python -m training.color`` and
``python -m training.eval``; see ``training/README.md``.  Shared pieces: :mod:`training.data`
(dataset folders, decode-aware caches, patch samplers) and :mod:`training.loop` (the
distributed, resumable training loop and the export of weights).
"""
