"""The model registry: shipped models loaded once, a bad file leaves the other serving, trained models come and go."""

from __future__ import annotations

import pytest
import torch

from resnet import registry as registry_module
from resnet.checkpoint import CheckpointError, ModelCard, load_model, save_model
from resnet.evaluate import default_weights
from resnet.registry import ModelRegistry, shipped_weights


def test_the_shipped_models_load_read_only(registry):
    assert not registry.errors and registry.shipped == list(shipped_weights())
    assert [k for k in registry.shipped if not k.endswith("-plain")] == ["digits", "clothing"]
    for key in registry.shipped:
        model, card = registry.get(key)
        plain = key.endswith("-plain")
        assert card.dataset == key.removesuffix("-plain") and card.plain == plain == model.plain
        assert not model.training and not any(p.requires_grad for p in model.parameters())
        assert registry.label(key) == card.dataset + (", plain twin" if plain else "")
        assert registry.samples(key).images.shape == (1000, 28, 28)
        if plain:
            assert registry.twin(key) == card.dataset and registry.twin(card.dataset) == key


def test_served_models_compute_what_their_files_hold(registry):
    """The served models run in channels-last order (a 2x faster path for one input): the same logits, the same
    input gradient (what Grad-CAM and the trace read), as the model straight from its file."""
    for key in ("digits", "clothing-plain"):
        served, card = registry.get(key)
        reference, _ = load_model(registry.weights[key])
        x = torch.rand(3, 1, card.image_size, card.image_size)
        xs = [x.clone().requires_grad_(True) for _ in range(2)]
        outs = [m(xi) for m, xi in zip((served, reference), xs, strict=True)]
        torch.testing.assert_close(outs[0], outs[1], atol=1e-4, rtol=1e-4)
        for out in outs:
            out[:, 0].sum().backward()
        torch.testing.assert_close(xs[0].grad, xs[1].grad, atol=1e-5, rtol=1e-3)
        assert served.b1[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_a_plain_file_under_a_residual_key_is_refused(tmp_path):
    from resnet.model import ResNet18

    path = tmp_path / "plain.safetensors"
    save_model(ResNet18(plain=True), ModelCard("digits", 64, plain=True), path)
    r = ModelRegistry({"digits": default_weights("digits"), "clothing": path})
    assert "holds a 'digits' plain twin model, not 'clothing'" in r.errors["clothing"]
    r = ModelRegistry({"digits": path, "clothing": default_weights("clothing")})
    assert "not 'digits'" in r.errors["digits"] and r.shipped == ["clothing"]
    assert ModelRegistry({"digits-plain": path}).shipped == ["digits-plain"]


def test_a_corrupted_weights_file_leaves_the_other_model_serving(tmp_path):
    broken = tmp_path / "clothing.safetensors"
    broken.write_bytes(default_weights("clothing").read_bytes()[:1000])
    r = ModelRegistry({"digits": default_weights("digits"), "clothing": broken})
    assert r.shipped == ["digits"] and str(broken) in r.errors["clothing"]
    swapped = ModelRegistry({"digits": default_weights("clothing"), "clothing": default_weights("clothing")})
    assert "holds a 'clothing' model" in swapped.errors["digits"] and swapped.shipped == ["clothing"]
    with pytest.raises(CheckpointError, match="no model could be loaded"):
        ModelRegistry({"digits": broken})


def test_a_trained_model_pushed_out_of_memory_comes_back_from_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "MAX_TRAINED", 1)
    r = ModelRegistry({"digits": default_weights("digits")})
    model, card = load_model(default_weights("digits"))
    first, second = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_model(model, card, first)
    save_model(model, card, second)
    a, b = r.add_trained(first), r.add_trained(second)
    assert (a, b) == ("digits:a", "digits:b") and r.shipped == ["digits"]
    assert a not in r.models and b in r.models  # the oldest was dropped from memory...
    assert r.knows(a) and r.card(a).dataset == "digits" and a not in r.models  # its card stays known...
    assert r.get(a)[1].dataset == "digits"  # ...and the model comes back from its file
    assert a in r.models and b not in r.models
    assert r.label(a) == f"digits (trained here, {int(card.epochs)} epochs)"
    with pytest.raises(KeyError, match="no model"):
        r.card("digits:never-trained")


def test_only_the_first_model_is_held_until_another_is_used():
    """Every shipped file is checked at start-up, but a class on digits never holds the other three models
    (~45 MB each); the first call for one loads it once, however many ask at the same moment."""
    import threading

    r = ModelRegistry()
    assert list(r.models) == ["digits"] and r.shipped == list(shipped_weights()) and not r.errors
    assert r.card("clothing").classes[0] == "T-shirt/top" and r.twin("digits") == "digits-plain"
    r.sample_stats("digits-plain")  # cached statistics (the lesion chart's twin) are read without the model
    assert r.path_stats("clothing") is not None and list(r.models) == ["digits"]
    got, start = [], threading.Barrier(4)

    def ask() -> None:
        start.wait()
        got.append(r.get("clothing")[0])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(m is got[0] for m in got) and list(r.models) == ["digits", "clothing"]
    reference, _ = load_model(default_weights("clothing"))
    x = torch.rand(2, 1, r.card("clothing").image_size, r.card("clothing").image_size)
    torch.testing.assert_close(got[0](x), reference(x), atol=1e-4, rtol=1e-4)


def test_sample_stats_are_read_once_per_model(registry):
    first = registry.sample_stats("digits")
    assert registry.sample_stats("digits") is first and set(first.lesion_accuracy) == {
        n for n, _ in registry.get("digits")[0].blocks()
    }
