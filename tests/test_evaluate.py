from __future__ import annotations

import pytest
import torch

from resnet.data import load_split
from resnet.evaluate import default_weights, predict, report
from resnet.samples import load_samples


@pytest.mark.parametrize(("dataset", "floor"), [("digits", 0.99), ("clothing", 0.92)])
def test_shipped_models_on_shipped_samples(models, dataset, floor):
    model, card = models[dataset]
    images, labels = load_samples(dataset).tensors()
    r = report(dataset, labels, predict(model, images, card.image_size))
    assert r.accuracy >= floor
    assert sum(map(sum, r.confusion)) == 1000 and len(r.per_class) == 10


@pytest.mark.slow
@pytest.mark.fulldata
@pytest.mark.parametrize(
    ("key", "floor"), [("digits", 0.995), ("clothing", 0.93), ("digits-plain", 0.99), ("clothing-plain", 0.9)]
)
def test_shipped_models_meet_their_accuracy_on_the_full_test_split(registry, full_data, key, floor):
    """The claims in the README's table, model by model, on all 10,000 test images (plain twins where shipped)."""
    if not default_weights(key).exists():
        pytest.skip(f"{key} is not shipped")
    model, card = registry.get(key)
    dataset = card.dataset
    images, labels = load_split(dataset, train=False, data_dir=full_data)
    r = report(dataset, labels, predict(model, images, card.image_size))
    assert len(labels) == 10_000
    assert r.accuracy >= floor
    assert r.accuracy == pytest.approx(card.test_accuracy, abs=5e-4)  # what the file's card says


def test_samples_are_the_test_split(full_data):
    for dataset in ("digits", "clothing"):
        s = load_samples(dataset)
        images, labels = load_split(dataset, train=False, data_dir=full_data)
        idx = torch.from_numpy(s.indices.copy())
        assert torch.equal(images[idx], torch.from_numpy(s.images.copy()))
        assert torch.equal(labels[idx], torch.from_numpy(s.labels.copy()))
        assert (torch.bincount(torch.from_numpy(s.labels.copy())) == 100).all()
