"""Layer responses and gradient flow per block, against brute-force recomputations through the model's modules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from resnet import why
from resnet.data import resize
from resnet.evaluate import default_weights
from resnet.model import CifarResNet, ResNet18
from resnet.samples import load_samples


def _images(n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_samples("digits").tensors()
    return images[:: 1000 // n][:n], labels[:: 1000 // n][:n]


@pytest.mark.parametrize("plain", [False, True], ids=["residual", "plain"])
def test_response_std_is_the_std_of_the_last_bn_output(plain):
    torch.manual_seed(0)
    model = ResNet18(plain=plain).eval()
    images, _ = _images()
    captured: dict[str, list[torch.Tensor]] = {}
    for name, block in model.blocks():
        block.bn2.register_forward_hook(lambda m, i, o, name=name: captured.setdefault(name, []).append(o.detach()))
    with torch.no_grad():
        for i in range(0, len(images), 15):  # other batches than response_std's
            model(resize(images[i : i + 15], 32))
    expected = {name: float(torch.cat(outs).double().std()) for name, outs in captured.items()}
    measured = why.response_std(model, images, 32, batch=25)
    assert measured.keys() == expected.keys()
    assert list(measured.values()) == pytest.approx(list(expected.values()), rel=1e-6)


def test_gradient_norms_equal_the_gradients_at_each_blocks_output():
    """Hooks on the blocks' own modules (not the walk) give the same per-image gradient norms."""
    torch.manual_seed(0)
    model = CifarResNet(20).eval()
    images, labels = _images(30)
    measured = why.gradient_norms(model, images, labels, 28, batch=30)
    reference = CifarResNet(20).train()
    reference.load_state_dict(model.state_dict())
    outs = {}
    for name, block in reference.blocks():
        block.register_forward_hook(lambda m, i, o, name=name: outs.__setitem__(name, o) or o.retain_grad())
    F.cross_entropy(reference(resize(images, 28)), labels, reduction="sum").backward()
    for name, out in outs.items():
        assert measured[name] == pytest.approx(float(out.grad.flatten(1).norm(dim=1).mean()), rel=1e-4), name
    assert not model.training and all(p.grad is None for p in model.parameters())  # the model given is untouched


def test_the_shipped_responses_equal_a_recomputation(registry):
    shipped = why.load("responses")
    if not default_weights("digits-plain").exists():
        pytest.skip("the plain twin is not shipped")
    assert "digits" in shipped, "run python -m resnet.why and commit assets/why"
    images, _ = load_samples("digits").tensors()
    for key, kind in (("digits", "residual"), ("digits-plain", "plain")):
        model, card = registry.get(key)
        fresh = why.response_std(model, images, card.image_size)
        assert list(fresh.values()) == pytest.approx(list(shipped["digits"][kind]["std"].values()), rel=1e-5)
