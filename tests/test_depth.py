"""The depth experiment's shipped logs, and how they are read and summarised."""

from __future__ import annotations

import json

import pytest

from resnet.depth import DEPTH_DIR, DepthRun, load_runs, read_log, sentence, verdict


def test_the_shipped_depth_logs_exist_and_parse():
    runs = {r.name: r for r in load_runs()}
    assert {"plain-20", "residual-20", "plain-56", "residual-56"} <= set(runs), f"logs in {DEPTH_DIR}: {sorted(runs)}"
    epochs = {len(r.train_error) for r in runs.values()}
    assert len(epochs) == 1 and epochs.pop() >= 5  # the same number of epochs for every run
    for r in runs.values():
        assert all(0 <= e <= 1 for e in (*r.train_error, *r.test_error))
        assert (DEPTH_DIR / f"{r.name}.safetensors").exists()  # the trained model, for the gradient measurements


def test_a_log_is_read_as_errors_per_epoch(tmp_path):
    path = tmp_path / "plain-56.metrics.jsonl"
    rows = [
        {"epoch": e, "train_accuracy": a, "test_accuracy": a - 0.1, "train_loss": 1.0} for e, a in ((1, 0.5), (2, 0.8))
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = read_log(path)
    assert (run.plain, run.depth, run.name) == (True, 56, "plain-56")
    assert run.train_error == pytest.approx((0.5, 0.2)) and run.test_error == pytest.approx((0.6, 0.3))
    with pytest.raises(ValueError, match="expected plain"):
        read_log(tmp_path / "deep-56.metrics.jsonl")


def test_the_verdict_and_the_sentence_follow_the_numbers():
    degraded = [
        DepthRun(True, 20, (0.3, 0.1), ()),
        DepthRun(True, 56, (0.5, 0.3), ()),
        DepthRun(False, 20, (0.3, 0.1), ()),
        DepthRun(False, 56, (0.2, 0.08), ()),
    ]
    lines = verdict(degraded)
    assert lines[0].startswith("plain-56 trains worse than plain-20") and "30.0% against 10.0%" in lines[0]
    assert lines[1].startswith("residual-56 trains at least as well as residual-20")
    assert "harder to train; with them, they do not" in sentence(degraded)
    assert "not here yet" in sentence(degraded[:1])
