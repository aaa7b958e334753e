"""The canvas's blobs kept bounded: ``resnet.recent.Recent`` against a plain dict, and the app's canvas using it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from resnet.recent import Recent


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_older_than_their_age_are_forgotten_when_one_is_set():
    clock = Clock()
    kept = Recent(max_age_s=300, most=100, clock=clock)
    kept["a"] = 1
    clock.now = 200
    kept["b"] = 2
    kept["a"] = 3  # set again: young again, and now the newest
    clock.now = 450
    kept["c"] = 4
    assert kept == {"a": 3, "b": 2, "c": 4}  # none over 300 s old ("a" was set again at 200)
    clock.now = 701
    kept["d"] = 5
    assert kept == {"c": 4, "d": 5}


def test_at_most_so_many_the_oldest_first_and_reads_are_a_dict_s():
    kept = Recent(max_age_s=1e9, most=3, clock=Clock())
    reference = {}
    for n in range(10):
        kept[f"k{n}"] = n
        reference[f"k{n}"] = n
        reference = dict(list(reference.items())[-3:])
        assert kept == reference and len(kept._set_at) == len(kept)
    assert kept.get("k9") == 9 and "k6" not in kept and kept.pop("k8") == 8 and kept.pop("k8", None) is None
    del kept["k7"]
    assert kept == {"k9": 9} and list(kept._set_at) == ["k9"]


def png(colour: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (280, 280), (colour, colour, colour, 255)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_the_canvas_keeps_its_blobs_bounded_and_still_reads_a_recent_stroke(shipped_ctx):
    import gradio as gr
    from gradio.components.image_editor import AcceptBlobs, EditorData

    import app

    demo = app.build_demo(shipped_ctx)
    (canvas,) = [b for b in demo.blocks.values() if isinstance(b, gr.ImageEditor)]
    assert isinstance(canvas.blob_storage, Recent) and canvas.blob_storage.most == 4096
    for n in range(4200):  # what Gradio's page sends after every stroke, never named by an event
        data = {"type": "composite", "index": None, "id": f"stroke{n}", "file": b""}
        canvas.accept_blobs(AcceptBlobs(data=data, files=[("composite", b"")]))
    assert len(canvas.blob_storage) == 4096 and "stroke0" not in canvas.blob_storage
    data = {"type": "composite", "index": None, "id": "new", "file": b""}
    canvas.accept_blobs(AcceptBlobs(data=data, files=[("composite", png(0))]))
    value = canvas.preprocess(EditorData(id="new"))  # an event that names the latest stroke still gets it
    assert value["composite"].shape == (280, 280, 4) and np.all(value["composite"][..., :3] == 0)
    assert "new" not in canvas.blob_storage  # and Gradio removes what it used
