from __future__ import annotations

import json

import pytest
import torch

from resnet import evaluate, train
from resnet.checkpoint import CheckpointError, load_model
from resnet.fontdigits import font_files
from resnet.train import Epoch, Step, TrainConfig, lr_at, metrics_path, state_path


def tiny(tiny_data, **kw) -> TrainConfig:
    base = dict(dataset="digits", epochs=2, batch_size=64, image_size=28, data_dir=str(tiny_data), limit=256)
    return TrainConfig(**{**base, **kw})


def run(cfg, out, **kw) -> list:
    return list(train.train(cfg, out, **kw))


def test_training_learns_and_writes_everything(tiny_data, tmp_path):
    out = tmp_path / "run" / "m.safetensors"
    events = run(tiny(tiny_data, epochs=3, limit=0), out)
    steps = [e for e in events if isinstance(e, Step)]
    epochs = [e for e in events if isinstance(e, Epoch)]
    assert len(epochs) == 3 and len(steps) == 3 * 8
    assert steps[0].images_per_s > 0 and 0 < steps[-1].lr < 0.05
    assert epochs[-1].test_accuracy > 0.3  # the bars are easy; chance is 0.1
    assert epochs[-1].train_time_s <= epochs[-1].wall_time_s
    lines = [json.loads(s) for s in metrics_path(out).read_text().splitlines()]
    assert [m["epoch"] for m in lines] == [1, 2, 3]
    _model, card = load_model(out)
    assert (
        card.epochs == 3
        and card.recipe["lr"] == 0.05
        and card.test_accuracy == pytest.approx(epochs[-1].test_accuracy, abs=1e-6)
    )
    assert state_path(out).exists()


def test_resume_continues_where_it_stopped(tiny_data, tmp_path):
    """Stop after epoch 1, resume: the result equals one uninterrupted run."""
    cfg = tiny(tiny_data)
    whole = tmp_path / "whole.safetensors"
    run(cfg, whole)

    parts = tmp_path / "parts.safetensors"
    n = 0
    for ev in train.train(cfg, parts):
        if isinstance(ev, Epoch):
            n += 1
            break  # the process "dies" after its first checkpoint
    resumed = run(cfg, parts, resume=True)
    assert [e.epoch for e in resumed if isinstance(e, Epoch)] == [2]
    a, _ = load_model(whole)
    b, _ = load_model(parts)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(v.float(), w.float(), atol=1e-5), k
    assert len(metrics_path(parts).read_text().splitlines()) == 2


def test_resume_refuses_another_recipe(tiny_data, tmp_path):
    out = tmp_path / "m.safetensors"
    run(tiny(tiny_data, epochs=1), out)
    with pytest.raises(CheckpointError, match="another recipe"):
        run(tiny(tiny_data, epochs=1, lr=0.1), out, resume=True)


def test_should_stop_ends_cleanly(tiny_data):
    events = list(train.train(tiny(tiny_data), should_stop=lambda: True))
    assert events == []


def test_schedules():
    cfg = TrainConfig(lr=0.05)
    assert lr_at(cfg, 0.0) == pytest.approx(0.002)
    assert lr_at(cfg, 0.25) == pytest.approx(0.05)
    assert lr_at(cfg, 1.0) == pytest.approx(5e-6)
    assert lr_at(TrainConfig(schedule="constant"), 0.7) == 0.05


def test_cli_train_then_evaluate(tiny_data, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    args = ["--dataset", "clothing", "--epochs", "1", "--batch-size", "64", "--image-size", "32"]
    args += ["--data-dir", str(tiny_data), "--out", str(out), "--half", "--recipe", "lecture"]
    assert train.main(args) == 0
    _, card = load_model(out)
    assert card.recipe["optimizer"] == "sgd" and card.recipe["schedule"] == "constant"
    assert evaluate.main(["--dataset", "clothing", "--weights", str(out), "--data-dir", str(tiny_data)]) == 0
    text = capsys.readouterr().out
    assert "test accuracy" in text and "Ankle boot" in text and "confusion matrix" in text
    # wrong dataset for those weights, and missing data, are clear errors
    assert evaluate.main(["--dataset", "digits", "--weights", str(out), "--data-dir", str(tiny_data)]) == 2
    assert "not 'digits'" in capsys.readouterr().err


def test_the_coarse_twins_and_flat_art_are_part_of_the_recipe(tiny_data, tmp_path):
    out = tmp_path / "low.safetensors"
    args = train.parse_args(["--dataset", "digits", "--lowres", "0.3", "--flat", "0"])
    assert train.config_from_args(args).lowres == 0.3
    events = run(tiny(tiny_data, epochs=1, lowres=0.5), out)
    assert isinstance(events[-1], Epoch)
    _model, card = load_model(out)
    assert card.recipe["lowres"] == 0.5 and card.recipe["flat"] == 0.0
    with pytest.raises(CheckpointError, match="another recipe"):  # a twin-trained run resumes only as one
        run(tiny(tiny_data, epochs=2, lowres=0.0), out, resume=True)
    events = run(tiny(tiny_data, dataset="clothing", epochs=1, flat=0.5), tmp_path / "flat.safetensors")
    assert isinstance(events[-1], Epoch)
    with pytest.raises(ValueError, match="digits dataset only"):
        run(tiny(tiny_data, dataset="clothing", lowres=0.3), None)


@pytest.mark.skipif(not font_files(), reason="no font with digits installed (scripts/setup.sh --dev installs them)")
def test_font_digits_and_a_fine_tune_are_part_of_the_recipe(tiny_data, tmp_path):
    first = tmp_path / "first.safetensors"
    run(tiny(tiny_data, epochs=1), first)
    args = train.parse_args(["--dataset", "digits", "--fonts", "0.2", "--init", str(first)])
    assert (train.config_from_args(args).fonts, train.config_from_args(args).init) == (0.2, str(first))
    out = tmp_path / "tuned.safetensors"
    # A learning rate of ~0 keeps the weights: the run started from ``first``, not from a fresh network.
    events = run(tiny(tiny_data, epochs=1, fonts=0.25, init=str(first), lr=1e-12), out)
    assert isinstance(events[-1], Epoch)
    before, _ = load_model(first)
    after, card = load_model(out)
    assert card.recipe["fonts"] == 0.25 and card.recipe["init"] == str(first)
    w0, w1 = before.state_dict(), after.state_dict()
    assert all(torch.allclose(w0[k], w1[k], atol=1e-3) for k in w0 if k.endswith("conv1.weight"))
    with pytest.raises(CheckpointError, match="not this run's"):
        run(tiny(tiny_data, epochs=1, plain=True, init=str(first)), None)
    with pytest.raises(ValueError, match="digits dataset only"):
        run(tiny(tiny_data, dataset="clothing", fonts=0.3), None)
