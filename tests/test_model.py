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
