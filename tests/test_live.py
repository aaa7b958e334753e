"""Training from the app: curves, stop, saved epochs, errors, and the trained model in the views."""

from __future__ import annotations

import os
import signal

import pytest

from resnet.checkpoint import load_model
from resnet.live import LiveRun
from resnet.train import metrics_path, state_path


def test_a_run_records_curves_and_saves_every_epoch(tiny_data, tmp_path):
    run = LiveRun.start("digits", images=512, epochs=2, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    seen_epochs = []
    for r in run:
        seen_epochs.append(r.epochs_done)
    assert run.error is None and run.epochs_done == 2
    series = {p.series for p in run.curves}
    assert series == {"train loss", "train accuracy", "test accuracy"}
    steps = [p for p in run.curves if p.series == "train loss"]
    assert len(steps) == 2 * 8  # 512 images / batch 64, two epochs
    assert [p.images for p in steps] == sorted(p.images for p in steps)  # x grows
    tests = [p for p in run.curves if p.series == "test accuracy"]
    assert [p.images for p in tests] == [0, 512, 1024]  # random weights first, then after each epoch
    assert tests[0].value < 0.5
    assert tests[-1].value == pytest.approx(run.test_accuracy)
    _, card = load_model(run.out)
    assert card.dataset == "digits" and card.epochs == 2 and card.recipe["limit"] == 512
    assert not state_path(run.out).exists()  # the command line's resume file is not left behind
    assert len(metrics_path(run.out).read_text().splitlines()) == 2
    assert "Finished after 2 epochs" in run.status


def test_stop_keeps_the_finished_epochs(tiny_data, tmp_path):
    run = LiveRun.start("digits", images=512, epochs=3, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    for r in run:
        if r.epochs_done == 1:
            r.stop.set()
    assert run.epochs_done == 1 and run.error is None
    assert load_model(run.out)[1].epochs == 1
    assert run.status.startswith("Stopped after 1 epoch")


def test_stop_before_the_first_epoch_keeps_nothing_and_says_so(tiny_data, tmp_path):
    run = LiveRun.start("digits", images=512, epochs=1, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    run.stop.set()
    list(run)
    assert run.epochs_done == 0 and not run.out.exists()
    assert "nothing to keep" in run.status


def test_missing_data_ends_with_a_clear_error(tmp_path):
    nowhere = tmp_path / "not-a-folder"  # a file: torchvision cannot even make the folder, so it never downloads
    nowhere.write_text("")
    run = LiveRun.start("clothing", images=1000, epochs=1, lr=0.05, runs_dir=tmp_path, data_dir=nowhere)
    list(run)
    assert run.error and "not found" in run.error and "Training stopped with an error" in run.status


@pytest.mark.parametrize("kwargs", [{"dataset": "cars"}, {"lr": 0.0}, {"lr": 5.0}, {"images": 0}, {"epochs": 0}])
def test_bad_settings_are_refused(tmp_path, kwargs):
    settings = {"dataset": "digits", "images": 1000, "epochs": 1, "lr": 0.05} | kwargs
    with pytest.raises(ValueError):
        LiveRun.start(**settings, runs_dir=tmp_path, data_dir=tmp_path)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_run_trains_in_a_process_of_its_own_at_a_lower_priority(tiny_data, tmp_path):
    """Its memory and its GIL are not the server's, and other users' labels keep the cores first."""
    run = LiveRun.start("digits", images=128, epochs=1, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    it = iter(run)
    next(it)  # random weights
    pid = run.pid
    assert pid not in (None, os.getpid())
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE  # a core only when nobody else wants it
    assert [r.event for r in it][-1] == "end" and run.epochs_done == 1 and run.error is None
    assert run.pid is None and _gone(pid)


def test_closing_the_run_stops_its_process_and_keeps_its_epochs(tiny_data, tmp_path):
    run = LiveRun.start("digits", images=512, epochs=3, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    it = iter(run)
    while next(it).event != "epoch":
        pass
    pid = run.pid
    it.close()  # a closed tab: Gradio closes the generator
    assert _gone(pid) and load_model(run.out)[1].epochs == 1


def test_a_training_process_that_dies_ends_the_run_with_a_message(tiny_data, tmp_path):
    """Killed for memory, say: the run ends with an error that says so, and the server side goes on."""
    run = LiveRun.start("digits", images=512, epochs=3, lr=0.05, runs_dir=tmp_path, data_dir=tiny_data, batch_size=64)
    for r in run:
        if r.event == "epoch":
            os.kill(r.pid, signal.SIGKILL)
    assert "ended unexpectedly" in run.error and run.epochs_done == 1
    assert "Epochs 1–1 are saved" in run.status and load_model(run.out)[1].epochs == 1
