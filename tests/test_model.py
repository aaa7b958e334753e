from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from resnet.model import BLOCK_NAMES, Residual, ResNet18, count_parameters
from resnet.probes import block_stats, trace


@pytest.fixture(scope="module")
def model() -> ResNet18:
    torch.manual_seed(0)
    m = ResNet18()
    # Train-mode statistics once so BN's running stats are not the identity, then evaluate.
    with torch.no_grad():
        m(torch.rand(8, 1, 64, 64))
    return m.eval()


def test_parameter_count_is_the_lectures():
    assert count_parameters(ResNet18()) == 11_178_378


def test_stage_shapes_at_96():
    m = ResNet18().eval()
    x = torch.rand(2, 1, 96, 96)
    expected = {"b1": (64, 24, 24), "b2": (64, 24, 24), "b3": (128, 12, 12), "b4": (256, 6, 6), "b5": (512, 3, 3)}
    with torch.no_grad():
        for name in expected:
            x = getattr(m, name)(x)
            assert tuple(x.shape[1:]) == expected[name], name
        assert m.head(x).shape == (2, 10)


def test_module_names_follow_the_lecture():
    names = dict(ResNet18().named_children())
    assert list(names) == ["b1", "b2", "b3", "b4", "b5", "pool", "flatten", "fc"]
    assert [n for n, _ in ResNet18().blocks()] == list(BLOCK_NAMES)
    block = ResNet18().b3[0]
    assert block.projects and block.conv3.kernel_size == (1, 1) and block.conv1.stride == (2, 2)
    assert not ResNet18().b2[0].projects and all(c.bias is not None for c in (block.conv1, block.conv2, block.conv3))


def test_block_adds_out_of_place():
    """A captured residual branch must stay F(x): the lecture's `Y += X` would turn it into the sum."""
    torch.manual_seed(0)
    block = Residual(8, 8).eval()
    captured = {}
    block.bn2.register_forward_hook(lambda mod, inp, out: captured.setdefault("residual", out))
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        out = block(x)
        assert torch.equal(captured["residual"], block.residual(x))
        assert torch.equal(out, F.relu(block.residual(x) + x))


def test_trace_decomposition_reproduces_the_model(model):
    x = torch.rand(3, 1, 64, 64)
    with torch.no_grad():
        t = trace(model, x)
        assert torch.equal(t.logits, model(x))
    assert [b.name for b in t.blocks] == list(BLOCK_NAMES)
    for b in t.blocks:
        assert torch.equal(F.relu(b.residual + b.shortcut), b.output), b.name
        assert torch.equal(b.preact, b.residual + b.shortcut)
        if not b.projects:
            assert torch.equal(b.shortcut, b.input)
    for prev, nxt in zip(t.blocks, t.blocks[1:], strict=False):
        assert torch.equal(prev.output, nxt.input)
    assert torch.equal(t.stages["b5"], t.blocks[-1].output)


def test_lesions_do_not_touch_the_shared_model(model):
    x = torch.rand(2, 1, 64, 64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        plain = model(x)
        lesioned = model.forward_lesioned(x, {"b3.1", "b4.1"})
        t = trace(model, x, {"b3.1", "b4.1"})
        after = model(x)
    assert torch.equal(t.logits, lesioned)
    assert not torch.allclose(lesioned, plain)
    assert torch.equal(after, plain)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    b = t.block("b3.1")
    assert b.lesioned and torch.equal(b.output, F.relu(b.shortcut)) and not b.residual.any()
    with torch.no_grad():
        assert torch.equal(model.forward_lesioned(x, ()), plain)
    with pytest.raises(ValueError, match="unknown blocks"):
        model.forward_lesioned(x, {"b9.0"})


def test_every_parameter_gets_a_gradient():
    m = ResNet18().train()
    loss = F.cross_entropy(m(torch.rand(4, 1, 32, 32)), torch.arange(4))
    loss.backward()
    assert torch.isfinite(loss)
    missing = [n for n, p in m.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_block_stats(model):
    with torch.no_grad():
        t = trace(model, torch.rand(2, 1, 64, 64), {"b2.1"})
    stats = block_stats(t)
    assert [s.name for s in stats] == list(BLOCK_NAMES)
    for s in stats:
        assert s.ratio.shape == (2,) and (s.ratio >= 0).all() and (s.cosine.abs() <= 1 + 1e-6).all()
    assert (stats[1].ratio == 0).all()  # lesioned: F(x) = 0


@pytest.mark.parametrize("plain", [False, True])
def test_block_stats_from_the_scripted_function_are_the_eager_ones_bit_for_bit(model, plain):
    """One call of ``ratios_and_cosines`` as TorchScript gives the numbers its Python gives; the plain twin's
    downsampling blocks (nothing to compare F(x) with) stay NaN."""
    from resnet import graphs
    from resnet.probes import detach, ratios_and_cosines

    assert isinstance(graphs.scripted(ratios_and_cosines), torch.jit.ScriptFunction)
    assert isinstance(graphs.scripted(detach), torch.jit.ScriptFunction)
    torch.manual_seed(1)
    m = ResNet18(plain=True).eval() if plain else model
    with torch.no_grad():
        t = trace(m, torch.rand(3, 1, 64, 64), {"b4.1"})
    scripted, eager = block_stats(t), block_stats(t, graph=False)
    assert [s.name for s in scripted] == [s.name for s in eager] == list(BLOCK_NAMES)
    for s, e in zip(scripted, eager, strict=True):
        torch.testing.assert_close(s.ratio, e.ratio, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(s.cosine, e.cosine, rtol=0, atol=0, equal_nan=True)
    undefined = [s.name for s in scripted if s.ratio.isnan().all()]
    assert undefined == (["b3.0", "b4.0", "b5.0"] if plain else [])


def test_a_block_given_nothing_has_no_ratio_or_cosine():
    """After a lesioned downsampling block of the plain twin the next block's input is all zeros: ‖F(x)‖/‖x‖ and
    cos(F(x), x) are undefined there (NaN, shown as no bar and no number), not a ratio of ~10¹³ that flattens the
    chart; every other block keeps finite numbers."""
    torch.manual_seed(2)
    m = ResNet18(plain=True).eval()
    with torch.no_grad():
        m(torch.rand(4, 1, 64, 64))
        t = trace(m, torch.rand(2, 1, 64, 64), {"b4.0"})
    assert not t.block("b4.1").input.any()
    for graph in (True, False):
        stats = {s.name: s for s in block_stats(t, graph=graph)}
        assert stats["b4.1"].ratio.isnan().all() and stats["b4.1"].cosine.isnan().all()
        defined = ["b2.0", "b2.1", "b3.1", "b5.1"]
        assert all(stats[n].ratio.isfinite().all() and stats[n].cosine.isfinite().all() for n in defined)


def test_one_walk_serves_the_forward_pass_the_lesions_and_the_probes(model):
    """The forward pass equals the stages called one after another, and the walk names every block once."""
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        by_stage = model.head(model.b5(model.b4(model.b3(model.b2(model.b1(x))))))
        assert torch.equal(model(x), by_stage)
        passes = list(model.walk(model.b1(x), {"b2.1"}))
    assert [p.name for p in passes] == list(BLOCK_NAMES)
    assert passes[1].residual is None and all(p.residual is not None for p in passes if p.name != "b2.1")
    with pytest.raises(ValueError, match="unknown blocks"):
        trace(model, x, {"b2.2"})


def test_the_plain_twin_has_the_same_layers_without_the_projections():
    residual, plain = ResNet18(), ResNet18(plain=True)
    assert count_parameters(plain) == 11_005_450  # the three 1x1 projections (172,928 parameters) removed
    names = set(plain.state_dict())
    assert names == {k for k in residual.state_dict() if ".conv3." not in k}
    assert all(block.plain and not block.projects for _, block in plain.blocks())


def test_plain_blocks_are_relu_of_the_residual_branch_of_the_same_weights(model):
    """The plain twin with the residual model's weights: every block output is relu(F(x)), F the residual's."""
    plain = ResNet18(plain=True).eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if ".conv3." not in k})
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        t = trace(plain, x)
        assert torch.equal(t.logits, plain(x))
        blocks = dict(model.blocks())
        for b in t.blocks:
            assert b.plain and b.shortcut is None
            assert torch.equal(b.output, F.relu(blocks[b.name].residual(b.input))), b.name
            assert torch.equal(b.preact, b.residual)


def test_a_lesioned_plain_block_passes_its_input_where_shapes_allow_and_nothing_where_they_do_not():
    plain = ResNet18(plain=True).eval()
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        t = trace(plain, x, {"b2.1", "b3.0"})
    skipped, cut = t.block("b2.1"), t.block("b3.0")
    assert torch.equal(skipped.output, skipped.input)  # post-ReLU input: relu(x) = x
    assert cut.output.shape == (2, 128, 8, 8) and not cut.output.any()
