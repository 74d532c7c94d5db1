"""The one exception type that lumacodec raises for bad input or a stream it cannot decode."""


class LumacodecError(ValueError):
    """Bad input: not an image, a damaged or truncated stream, absurd dimensions, missing weights.

    The message is a single line meant for a person; the CLI prints it as it is.
    """


class DecompressionBombError(LumacodecError):
    """A header claims more pixels than :data:`lumacodec.container.MAX_IMAGE_PIXELS` allows."""
