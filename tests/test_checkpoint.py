from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from resnet.checkpoint import CheckpointError, ModelCard, load_model, read_metadata, save_model
from resnet.model import ResNet18


@pytest.fixture
def saved(tmp_path):
    m = ResNet18().eval()
    path = tmp_path / "m.safetensors"
    save_model(m, ModelCard("clothing", 64, epochs=2, test_accuracy=0.9, recipe={"lr": 0.05}), path)
    return m, path


def test_round_trip_keeps_weights_and_metadata(saved):
    m, path = saved
    loaded, card = load_model(path)
    assert card.dataset == "clothing" and card.image_size == 64 and card.test_accuracy == 0.9
    assert card.classes[-1] == "Ankle boot" and card.recipe == {"lr": 0.05}
    meta = read_metadata(path)
    assert {"torch", "torchvision"} <= set(json.loads(meta["versions"]))
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), m(x))
    assert not loaded.training
    assert [p.name for p in path.parent.iterdir()] == ["m.safetensors"]  # no temporary file left


def test_half_precision_file_loads_as_float32(tmp_path):
    path = tmp_path / "h.safetensors"
    save_model(ResNet18(), ModelCard("digits", 64), path, half=True)
    model, _ = load_model(path)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert path.stat().st_size < 23_000_000


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "empty", "pickle"],
)
def test_damaged_files_are_refused(saved, damage):
    _, path = saved
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00\x01not a checkpoint" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError):
        load_model(path)


def test_foreign_files_are_refused(tmp_path):
    state = ResNet18().state_dict()
    no_meta = tmp_path / "plain.safetensors"
    save_file(state, no_meta)
    with pytest.raises(CheckpointError, match="not a ResNet explainer checkpoint"):
        load_model(no_meta)

    meta = ModelCard("digits", 64).to_metadata()
    wrong_shape = dict(state, **{"fc.weight": torch.zeros(5, 512)})
    save_file(wrong_shape, tmp_path / "shape.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="shape"):
        load_model(tmp_path / "shape.safetensors")

    missing = {k: v for k, v in state.items() if k != "fc.bias"}
    save_file(missing, tmp_path / "missing.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="missing"):
        load_model(tmp_path / "missing.safetensors")

    bad = dict(meta, dataset="cifar")
    save_file(state, tmp_path / "meta.safetensors", metadata=bad)
    with pytest.raises(CheckpointError, match="invalid metadata"):
        load_model(tmp_path / "meta.safetensors")

    nan = dict(state, **{"fc.bias": torch.full((10,), float("nan"))})
    save_file(nan, tmp_path / "nan.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="NaN"):
        load_model(tmp_path / "nan.safetensors")

    with pytest.raises(CheckpointError, match="no weights file"):
        load_model(tmp_path / "absent.safetensors")


def test_shipped_weights_carry_their_card(models):
    for name, (_, card) in models.items():
        assert card.dataset == name and card.image_size == 64
        assert card.test_accuracy >= (0.995 if name == "digits" else 0.93)


@pytest.mark.parametrize(("arch", "plain"), [("resnet18", True), ("resnet20", False), ("resnet20", True)])
def test_the_card_says_which_network_and_whether_it_is_plain(tmp_path, arch, plain):
    from resnet.model import build_model

    m = build_model(arch, plain).eval()
    path = tmp_path / "m.safetensors"
    save_model(m, ModelCard("digits", 28, arch=arch, plain=plain), path)
    assert read_metadata(path)["plain"] == json.dumps(plain) and read_metadata(path)["arch"] == arch
    loaded, card = load_model(path)
    assert (card.arch, card.plain, type(loaded), loaded.plain) == (arch, plain, type(m), plain)
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded(x), m(x))


def test_a_card_from_before_the_plain_twin_reads_as_the_residual_resnet18(saved):
    _, path = saved
    from safetensors.torch import load_file

    meta = read_metadata(path)
    del meta["plain"], meta["arch"]
    save_file(load_file(path), path, metadata=meta)
    model, card = load_model(path)
    assert not card.plain and card.arch == "resnet18" and not model.plain and model.b3[0].projects
    meta["plain"] = "true"  # a plain card on residual weights: the projections are unexpected
    save_file(load_file(path), path, metadata=meta)
    with pytest.raises(CheckpointError, match="does not hold this plain resnet18"):
        load_model(path)


def test_half_precision_keeps_what_float16_cannot_hold(tmp_path):
    """A deep plain network's BN running variance can pass float16's 65,504: it stays float32, not inf."""
    m = ResNet18().eval()
    m.b2[0].bn1.running_var.fill_(3e5)
    path = tmp_path / "big.safetensors"
    save_model(m, ModelCard("digits", 64), path, half=True)
    from safetensors.torch import load_file

    raw = load_file(path)
    assert raw["b2.0.bn1.running_var"].dtype == torch.float32 and raw["b2.0.conv1.weight"].dtype == torch.float16
    loaded, _ = load_model(path)
    assert torch.equal(loaded.b2[0].bn1.running_var, m.b2[0].bn1.running_var)
