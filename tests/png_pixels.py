"""Test helper: what a rendered PNG's pixels say about it (a drawn figure, not a flat canvas).

    assert distinct_colours(matplotlib.image.imread(path)) > 50

`np.unique(pixels.reshape(-1, 3), axis=0)` counts the same colours, but sorts the rows of a structured view: about 3
CPU-s for one figure, more than drawing it. Packing each 8-bit RGB pixel into one integer counts them in a fraction
of that."""

from __future__ import annotations

import numpy as np


def distinct_colours(pixels: np.ndarray) -> int:
    """The number of distinct RGB colours of an image as matplotlib.image.imread reads a PNG (floats in [0, 1], or
    8-bit integers); alpha is left out."""
    rgb = pixels[..., :3]
    if rgb.dtype.kind == "f":
        rgb = np.rint(rgb * 255.0)
    rgb = rgb.astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return len(np.unique(packed.ravel()))
