"""`drawn_png_bytes` (one draw, cut to the tight box) makes the picture `png_bytes` (savefig, bbox "tight") makes of
the same figure, labels reaching past the axes included: the same size, its contents within half a pixel (savefig
draws them shifted by the box's fraction of a pixel, so a few edge pixels differ); a figure at another dpi is
refused."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from repro.figures.common import DPI, drawn_png_bytes, png_bytes


def _figure(dpi: float):
    fig, axes = plt.subplots(2, 1, figsize=(6, 3), dpi=dpi)
    for i, ax in enumerate(axes):
        ax.plot([0, 1], [0, i], "o-", label=f"line {i}")
        ax.set_yticks([0, 1], ["a long tick label that the layout must make room for", "b"], fontsize=7)
        ax.set_title(f"panel {i}", loc="left", fontsize=8)
    fig.suptitle("a title")
    fig.legend(loc="upper center")
    fig.tight_layout(rect=(0, 0, 1, 0.85))
    return fig


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=int)


def test_drawn_png_is_the_tight_savefig_picture():
    drawn, saved = _pixels(drawn_png_bytes(_figure(DPI))), _pixels(png_bytes(_figure(DPI)))
    assert drawn.shape == saved.shape
    assert (drawn < 128).sum() == pytest.approx((saved < 128).sum(), rel=0.05)  # the same ink: nothing cut off
    assert (np.abs(drawn - saved) > 0).mean() < 0.02


def test_a_figure_at_another_dpi_is_refused():
    fig = _figure(DPI / 2)
    with pytest.raises(ValueError, match="dpi"):
        drawn_png_bytes(fig)
    plt.close(fig)
