"""The light path and the shared analysis: what the views read equals a fresh pass through the model."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from resnet import analysis
from resnet.analysis import Analyser
from resnet.checkpoint import load_model, save_model
from resnet.evaluate import default_weights
from resnet.gradcam import cams_from_trace
from resnet.preprocess import preprocess
from resnet.probes import trace
from resnet.registry import ModelRegistry


def _bar() -> np.ndarray:
    """A white vertical bar on black: a "1"."""
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 13:16] = 255
    return img


def test_classify_is_the_models_own_forward_pass(registry):
    c = analysis.classify(registry, _bar(), "digits", ["b4.1"])
    model, card = registry.get("digits")
    with torch.no_grad():
        p = preprocess(_bar(), "digits", card.image_size)
        probs = model.forward_lesioned(p.tensor, {"b4.1"})[0].softmax(-1)
    top = probs.topk(3)
    assert list(c.top) == [card.classes[i] for i in top.indices]
    assert list(c.top.values()) == pytest.approx(top.values.tolist())
    assert c.seen.shape == (28, 28) and c.model_input.shape == (card.image_size,) * 2
    with pytest.raises(ValueError, match="unknown blocks"):
        analysis.classify(registry, _bar(), "digits", ["b9.9"])


def test_a_cached_analysis_equals_a_fresh_one(registry):
    analyser = Analyser(registry)
    a = analyser.analyse(_bar(), "clothing", ["b3.1"], target=1)
    assert analyser.analyse(_bar(), "clothing", ["b3.1"], target=1) is a  # the second view reads the same pass
    assert a.model_key == "clothing" and a.target_name == "Trouser" and a.classes[1] == "Trouser"
    model, card = registry.get("clothing")
    x = preprocess(_bar(), "clothing", card.image_size).tensor.requires_grad_(True)
    with torch.enable_grad():
        t = trace(model, x, {"b3.1"}, keep_graph=True)
        cams, cls = cams_from_trace(t, x.shape[-1], 1)
    assert cls == 1 and torch.equal(a.trace.logits, t.logits.detach())
    assert all(torch.equal(a.cams[s], cams[s]) for s in cams)
    assert a.trace.block("b3.1").lesioned and not a.trace.block("b3.1").residual.any()
    assert analyser.analyse(_bar(), "clothing", [], target=1) is not a  # other lesions: another pass


def test_a_model_reloaded_under_the_same_key_is_never_read_from_the_cache(tmp_path):
    r = ModelRegistry({"digits": default_weights("digits")})
    analyser = Analyser(r)
    model, card = load_model(default_weights("digits"))
    path = tmp_path / "mine.safetensors"
    save_model(model, card, path)
    key = r.add_trained(path)
    before = analyser.analyse(_bar(), key)
    with torch.no_grad():
        model.fc.bias += 5 * torch.nn.functional.one_hot(torch.tensor(7), 10)  # another model, same file name
    save_model(model, card, path)
    assert r.add_trained(path) == key
    after = analyser.analyse(_bar(), key)
    assert after is not before
    assert float(after.trace.logits[0, 7]) == pytest.approx(float(before.trace.logits[0, 7]) + 5, abs=1e-3)


@pytest.mark.parametrize("key", ["digits", "clothing"])
def test_grad_cams_from_the_scripted_graph_are_the_eager_ones_bit_for_bit(registry, key):
    """Four inputs, each lesion set: the graph runs the same operations (``gradcam.cam_maps``) in one call."""
    from resnet import gradcam

    assert isinstance(gradcam.scripted(), torch.jit.ScriptFunction)
    model, card = registry.get(key)
    samples = registry.samples(key)
    for lesions in [(), ("b3.1",), ("b2.0", "b5.1")]:
        for i in range(4):
            x = preprocess(samples.images[i], key, card.image_size).tensor
            with torch.enable_grad():  # a pass each: a backward pass frees its graph
                passes = [trace(model, x.clone().requires_grad_(True), lesions, keep_graph=True) for _ in "ge"]
                graph, cls = cams_from_trace(passes[0], x.shape[-1])
                eager, same = cams_from_trace(passes[1], x.shape[-1], graph=False)
            assert cls == same and list(graph) == list(eager) == ["b1", "b2", "b3", "b4", "b5"]
            assert all(torch.equal(graph[s], eager[s]) for s in eager)
            assert all(float(m.max()) in (0.0, 1.0) and float(m.min()) >= 0 for m in graph.values())


@pytest.mark.parametrize(("key", "lesions"), [("digits", ()), ("digits-plain", ("b3.0",)), ("clothing", ("b2.1",))])
def test_a_scripted_analysis_equals_the_eager_one(registry, key, lesions):
    """Grad-CAM, the detach and the block statistics as one scripted call each give what the same operations give
    eagerly: the same logits, maps and numbers (a lesioned downsampling block of the plain twin cuts the stages
    before it from the logits: their maps are zeros, and its statistics NaN either way)."""
    image = registry.samples(key).images[3]
    scripted = Analyser(registry).analyse(image, key, lesions)
    eager = Analyser(registry, scripted=False).analyse(image, key, lesions)
    assert scripted.target == eager.target and torch.equal(scripted.trace.logits, eager.trace.logits)
    assert not scripted.trace.logits.requires_grad and not any(t.requires_grad for t in scripted.trace.stages.values())
    assert list(scripted.cams) == list(eager.cams) and all(
        torch.equal(scripted.cams[s], eager.cams[s]) for s in eager.cams
    )
    for s, e in zip(scripted.stats, eager.stats, strict=True):
        assert s.name == e.name
        torch.testing.assert_close(s.ratio, e.ratio, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(s.cosine, e.cosine, rtol=0, atol=0, equal_nan=True)
    if key == "digits-plain":
        assert not scripted.cams["b2"].any() and scripted.stats[2].ratio.isnan().all()


def _same(a, b) -> bool:
    return np.array_equal(a.image, b.image) and torch.equal(a.tensor, b.tensor) and a.inverted == b.inverted


def test_a_kept_preparation_equals_a_fresh_one_and_a_rewritten_file_is_prepared_anew(registry, tmp_path):
    from PIL import Image

    prepared = analysis.Preparations(registry)
    card = registry.card("digits")
    ink = np.full((280, 280), 255, np.uint8)
    ink[40:240, 120:150] = 0  # a dark "1" on white
    path = tmp_path / "one.png"
    Image.fromarray(ink).save(path)
    for image in (str(path), ink):
        first = prepared(image, "digits")
        assert prepared(image, "digits") is first  # the view reads the label's preprocessing
        assert _same(first, preprocess(image, "digits", card.image_size))  # and it is what preprocessing gives
    assert (prepared.hits, prepared.misses) == (2, 2)
    # the clothing model prepares the same input otherwise (Fashion-MNIST's conversion): another entry
    assert _same(prepared(ink, "clothing"), preprocess(ink, "clothing", registry.card("clothing").image_size))
    # the same path with new content (an upload rewritten in place) is a new input
    seven = np.full((280, 280), 255, np.uint8)
    seven[40:70, 60:220] = 0
    seven[70:240, 190:220] = 0
    Image.fromarray(seven).save(path)
    os.utime(path, ns=(1, 1))
    assert _same(prepared(str(path), "digits"), preprocess(str(path), "digits", card.image_size))
    assert prepared.misses == 4
    assert analysis.identity(Image.fromarray(ink)) is None  # a PIL image has no cheap name: never kept


def test_a_label_and_its_view_preprocess_once(registry):
    analyser = Analyser(registry)
    image = _bar()
    c = analysis.classify(registry, image, "digits", prepared=analyser.prepared)
    a = analyser.analyse(image.copy(), "digits")  # the view event gets its own copy of the same canvas
    assert a.prepared is c.prepared and (analyser.prepared.hits, analyser.prepared.misses) == (1, 1)
    assert c.top == analysis.classify(registry, image, "digits").top


def test_preparations_can_keep_none(registry, monkeypatch):
    monkeypatch.setenv("RESNET_PREPARED_KEPT", "0")
    prepared = analysis.Preparations(registry)
    assert prepared(_bar(), "digits") is not prepared(_bar(), "digits")
    assert prepared.hits == prepared.misses == 0
