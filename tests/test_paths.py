"""The path ensemble: every lesion subset's accuracy, against a brute-force pass per subset and the lesion cache."""

from __future__ import annotations

import itertools

import pytest
import torch

from resnet.evaluate import default_weights
from resnet.model import ResNet18
from resnet.paths import PathStats, cached_paths, subset_correct


@pytest.mark.parametrize("plain", [False, True], ids=["residual", "plain"])
def test_the_tree_walk_equals_one_lesioned_forward_pass_per_subset(plain):
    torch.manual_seed(0)
    model = ResNet18(plain=plain)
    with torch.no_grad():
        model(torch.rand(16, 1, 32, 32))  # BN statistics that are not the identity
    model.eval()
    x, y = torch.rand(12, 1, 32, 32), torch.randint(0, 10, (12,))
    with torch.no_grad():
        logits = model(x)
    y[:6] = logits[:6].argmax(1)  # some right, some wrong
    fast = subset_correct(model, x, y)
    names = [name for name, _ in model.blocks()]
    with torch.no_grad():
        for mask in range(256):
            lesions = {n for i, n in enumerate(names) if mask >> i & 1}
            brute = int((model.forward_lesioned(x, lesions).argmax(1) == y).sum())
            assert int(fast[mask]) == brute, sorted(lesions)


def test_by_removed_groups_the_subsets_by_their_size():
    stats = PathStats("digits", "x", ["a", "b"], ["a"], [1.0, 0.5, 0.75, 0.25])  # masks 0, {a}, {b}, {a, b}
    assert stats.by_removed() == [(1.0, 1.0, 1.0), (0.625, 0.5, 0.75), (0.25, 0.25, 0.25)]
    assert stats.by_removed(["a"]) == [(1.0, 1.0, 1.0), (0.5, 0.5, 0.5)]
    assert stats.of({"b"}) == 0.75 and stats.of(set()) == 1.0


@pytest.mark.parametrize("key", ["digits", "clothing", "digits-plain"])
def test_the_shipped_cache_agrees_with_the_single_lesion_statistics(registry, key):
    """Two independent computations: the subsets of one block equal the lesion chart's numbers (forward_lesioned)."""
    if not default_weights(key).exists():
        pytest.skip(f"{key} is not shipped")
    model, card = registry.get(key)
    paths = cached_paths(model, card.dataset, card.image_size, default_weights(key), compute=None)
    assert paths is not None, f"no path cache for {key}: run python -m resnet.paths and commit assets/cache"
    assert paths is registry.path_stats(key) or paths == registry.path_stats(key)  # loaded at start-up
    single = registry.sample_stats(key)
    assert len(paths.accuracy) == 256 and paths.accuracy[0] == pytest.approx(single.baseline, abs=1e-9)
    for name in paths.blocks:
        assert paths.of({name}) == pytest.approx(single.lesion_accuracy[name], abs=2e-3), name
    for a, b in itertools.combinations(paths.blocks, 2):
        assert 0 <= paths.of({a, b}) <= 1
