"""The residual view's block chart: the picture drawn from its kept background equals the figure drawn whole."""

from __future__ import annotations

import numpy as np
import pytest

from resnet.blockchart import BlockChart, nice_top

NAMES = ["b2.0", "b2.1", "b3.0", "b3.1", "b4.0", "b4.1", "b5.0", "b5.1"]
PROJECTS = [False, False, True, False, True, False, True, False]


def chart(lang: str = "en", narrow: bool = False) -> BlockChart:
    return BlockChart(
        NAMES,
        PROJECTS,
        [0.4, 0.5, 1.2, 0.6, 2.0, 0.7, 1.8, 0.9],
        [0.1, 0.2, -0.3, 0.1, 0, 0.4, -0.5, 0.2],
        lang,
        narrow,
    )


def drawn_whole(c: BlockChart, ratio, cosine) -> np.ndarray:
    """The reference: the same figure with this input's bars drawn with everything else, in one draw."""
    c.whole_figure(ratio, cosine)
    c.canvas.draw()
    return np.asarray(c.canvas.buffer_rgba())[..., :3].copy()


@pytest.mark.parametrize(("narrow", "shape"), [(False, (272, 640, 3)), (True, (464, 320, 3))])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_chart_from_its_background_equals_the_figure_drawn_whole(lang, narrow, shape):
    """Side by side, or for a phone's column one above the other (``narrow``)."""
    c = chart(lang, narrow)
    ratio, cosine = [0.5, 0.4, 1.5, 0.7, 2.2, 0.9, float("nan"), 1.0], [0.2, -0.1, -0.6, 0.3, 0.05, 0.5, -0.9, 0.99]
    c.draw([0.1] * 8, [0.9] * 8)  # another input first: nothing of it may stay behind
    picture = c.draw(ratio, cosine)
    assert picture.shape == shape and picture.dtype == np.uint8
    assert np.array_equal(picture, drawn_whole(c, ratio, cosine))
    above = c.ratio_axes.get_position().y0 > c.cosine_axes.get_position().y1
    assert above == narrow and (c.ratio_axes.get_position().x1 < c.cosine_axes.get_position().x0) != narrow


def test_an_input_past_the_usual_scale_gets_a_taller_one_and_the_next_input_the_usual_one_again():
    c = chart()
    assert c.top == 3.0  # 1.5 × the largest mean (2.0)
    usual = c.draw([0.5] * 8, [0.0] * 8)
    tall = [0.5] * 7 + [10.3]  # b5.1 after a lesion upstream
    picture = c.draw(tall, [0.0] * 8)
    assert c.ratio_axes.get_ylim() == (0.0, 15.0) and np.array_equal(picture, drawn_whole(c, tall, [0.0] * 8))
    c = chart()
    c.draw(tall, [0.0] * 8)
    assert np.array_equal(c.draw([0.5] * 8, [0.0] * 8), usual)  # one student's lesion leaves the others' scale


@pytest.mark.parametrize(("value", "top"), [(0.3, 0.3), (0.31, 0.4), (2.9, 3.0), (3.0, 3.0), (7.0, 8.0), (12, 15)])
def test_scales_end_on_round_numbers(value, top):
    assert nice_top(value) == pytest.approx(top)
