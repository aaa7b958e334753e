"""The labels' traced forward passes: the eager pass's logits bit for bit, kept per model and lesion set, bounded,
and the eager pass wherever a graph cannot serve (gradients wanted, tracing off or failing)."""

from __future__ import annotations

import gc

import pytest
import torch

from resnet import analysis
from resnet.graphs import LabelGraphs
from resnet.model import ResNet18

LESION_SETS = [(), ("b3.1",), ("b2.0", "b4.1", "b5.1")]


@pytest.mark.parametrize("key", ["digits", "clothing", "digits-plain"])
def test_a_traced_pass_gives_the_eager_logits_bit_for_bit(registry, key):
    """The graph runs the same kernels on the served model's own weights (shared, not copied), intact and
    lesioned, on real inputs of the model's dataset."""
    if not registry.knows(key):
        pytest.skip(f"{key} is not shipped here")
    model, _ = registry.get(key)
    samples = registry.samples(key)
    graphs = LabelGraphs(enabled=True)
    for lesions in LESION_SETS:
        for i in range(3):
            x = analysis.prepare(registry, samples.images[i], key).tensor
            with torch.no_grad():
                assert torch.equal(graphs.forward(model, x, lesions), model.forward_lesioned(x, lesions))
    assert len(graphs) == len(LESION_SETS)
    traced = {p.data_ptr() for _, graph in graphs._graphs.values() for p in graph.parameters()}
    assert traced <= {p.data_ptr() for p in model.parameters()}  # no copy of the weights


@pytest.mark.parametrize("key", ["digits", "clothing", "digits-plain"])
def test_a_traced_analysis_gives_the_eager_trace_and_grad_cams_bit_for_bit(registry, key):
    """Every tensor of the trace and every stage's Grad-CAM, intact and lesioned (for the plain twin a lesioned
    downsampling block, after which the class depends on no earlier stage), four calls each: the graph's optimiser
    made the Grad-CAMs wrong from the third call on, so it runs unoptimised."""
    from resnet.gradcam import cams_from_trace
    from resnet.graphs import flatten
    from resnet.probes import trace

    if not registry.knows(key):
        pytest.skip(f"{key} is not shipped here")
    model, _ = registry.get(key)
    samples = registry.samples(key)
    graphs = LabelGraphs(enabled=True)
    for lesions in [*LESION_SETS, ("b4.0",)]:
        for i in range(4):
            x = analysis.prepare(registry, samples.images[i], key).tensor
            with torch.enable_grad():
                eager = trace(model, x.clone().requires_grad_(True), lesions, keep_graph=True)
                traced = graphs.trace(model, x.clone().requires_grad_(True), lesions)
                cams = [cams_from_trace(t, x.shape[-1])[0] for t in (eager, traced)]
            assert [b.name for b in traced.blocks] == [b.name for b in eager.blocks]
            assert all(torch.equal(a, b) for a, b in zip(flatten(eager), flatten(traced), strict=True))
            assert all(torch.equal(cams[0][s], cams[1][s]) for s in cams[0])
    assert len(graphs) == len(LESION_SETS) + 1


def test_an_analysis_uses_the_traced_pass(registry, monkeypatch):
    """The app's analyses go through it (and through the eager pass when the graphs are off)."""
    calls = []
    original = LabelGraphs.trace
    monkeypatch.setattr(LabelGraphs, "trace", lambda self, *a: calls.append(a[2]) or original(self, *a))
    analysis.Analyser(registry).analyse(registry.samples("digits").images[0], "digits", ["b3.1"])
    assert [set(c) for c in calls] == [{"b3.1"}]


def test_graphs_are_kept_per_model_and_lesion_set_and_bounded():
    model = ResNet18().eval().requires_grad_(False)
    x = torch.rand(1, 1, 64, 64)
    graphs = LabelGraphs(size=2, enabled=True)
    with torch.no_grad():
        graphs.forward(model, x)
        first = graphs._graph(model, x, ())
        assert graphs._graph(model, x, ()) is first and len(graphs) == 1  # made once
        graphs.forward(model, x, ("b3.1",))
        graphs.forward(model, x, ("b4.1",))
    assert len(graphs) == 2 and graphs._graph(model, x, ("b4.1",)) is not None
    other = ResNet18().eval().requires_grad_(False)
    with torch.no_grad():
        graphs.forward(other, x)
    del model
    gc.collect()
    with torch.no_grad():
        graphs.forward(other, x, ("b3.1",))  # a dropped model's graphs go with the next new one
    assert len(graphs) == 2


def test_the_eager_pass_serves_where_a_graph_cannot(monkeypatch):
    """With gradients wanted (a graph is for inference), with ``$RESNET_LABEL_GRAPHS=0``, and where tracing fails
    (a torch without TorchScript): the same logits, no graph kept."""
    model = ResNet18().eval()
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    graphs = LabelGraphs(enabled=True)
    y = graphs.forward(model, x)
    assert y.grad_fn is not None and len(graphs) == 0
    monkeypatch.setenv("RESNET_LABEL_GRAPHS", "0")
    with torch.no_grad():
        assert torch.equal(LabelGraphs().forward(model, x), model(x))

    def no_jit(*args, **kwargs):
        raise RuntimeError("TorchScript is not available")

    monkeypatch.delenv("RESNET_LABEL_GRAPHS")
    monkeypatch.setattr(torch.jit, "trace", no_jit)
    graphs = LabelGraphs()
    with torch.no_grad():
        assert torch.equal(graphs.forward(model, x), model(x))
    assert graphs.enabled and len(graphs) == 0


def test_a_label_reads_the_traced_pass(registry):
    """``analysis.classify`` (every label, ``/classify``) goes through the registry's graphs."""
    images = registry.samples("digits").images
    before = len(registry.graphs)
    c = analysis.classify(registry, images[0], "digits", ["b2.1", "b5.0"])
    assert len(registry.graphs) >= min(before + 1, registry.graphs._size)
    model, card = registry.get("digits")
    with torch.no_grad():
        logits = model.forward_lesioned(c.prepared.tensor, ("b2.1", "b5.0"))[0]
    assert c.top == analysis.top_classes(logits, card.classes)
