from __future__ import annotations

import json

import pytest

from resnet.evaluate import default_weights
from resnet.model import BLOCK_NAMES
from resnet.sampleset import CACHE_DIR, SampleSetStats, cached_stats, compute_stats, sha256


def test_shipped_cache_matches_the_shipped_weights(models, tmp_path):
    """The app starts without recomputing: a cache file exists for each shipped weights file."""
    for dataset, (model, card) in models.items():
        digest = sha256(default_weights(dataset))
        path = CACHE_DIR / f"{dataset}-{digest[:16]}.json"
        assert path.exists(), f"missing {path}: run the app once and commit assets/cache"
        stats = cached_stats(model, dataset, card.image_size, default_weights(dataset))
        assert stats.weights_sha256 == digest and set(stats.lesion_accuracy) == set(BLOCK_NAMES)


@pytest.mark.slow
def test_cache_holds_what_a_recomputation_gives(models):
    model, card = models["digits"]
    digest = sha256(default_weights("digits"))
    fresh = compute_stats(model, "digits", card.image_size, digest)
    cached = json.loads((CACHE_DIR / f"digits-{digest[:16]}.json").read_text())
    assert fresh.baseline == pytest.approx(cached["baseline"], abs=1e-9)
    for name in BLOCK_NAMES:
        assert fresh.lesion_accuracy[name] == pytest.approx(cached["lesion_accuracy"][name], abs=2e-3)
        assert fresh.mean_ratio[name] == pytest.approx(cached["mean_ratio"][name], rel=1e-3)
    # identity blocks are the cheap ones to lose; a downsampling block costs more than any of them
    identity = [fresh.lesion_accuracy[n] for n in ("b2.1", "b3.1", "b4.1", "b5.1")]
    assert min(identity) > fresh.lesion_accuracy["b3.0"]


def test_stale_or_broken_cache_is_recomputed(models, tmp_path, monkeypatch):
    model, card = models["clothing"]
    digest = sha256(default_weights("clothing"))
    (tmp_path / f"clothing-{digest[:16]}.json").write_text("{not json")
    fresh = SampleSetStats("clothing", digest, 0.5, {}, {}, {})
    calls = []
    monkeypatch.setattr("resnet.sampleset.compute_stats", lambda *a: calls.append(a) or fresh)
    assert cached_stats(model, "clothing", card.image_size, default_weights("clothing"), tmp_path) is fresh
    assert len(calls) == 1
    # ...and the recomputed numbers are cached for the next start
    again = cached_stats(model, "clothing", card.image_size, default_weights("clothing"), tmp_path)
    assert again == fresh and len(calls) == 1
