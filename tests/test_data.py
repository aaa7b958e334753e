from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets, transforms

from resnet.data import (
    AUGMENTS,
    Augment,
    DataNotFoundError,
    TensorLoader,
    dataset_info,
    flat_shot,
    load_split,
    resize,
)


@pytest.mark.parametrize("size", [28, 64, 96])
def test_batches_match_the_torchvision_reference(size):
    """Our tensor pipeline (augmentation off) against the lecture's Resize(S) + ToTensor() on PIL images."""
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8))
    images[:, 10:18, 5:20] = 255  # some structure besides noise
    labels = torch.arange(16)
    loader = TensorLoader(images, labels, size, batch_size=8)
    ours = torch.cat([x for x, _ in loader])
    ref_tf = transforms.Compose([transforms.Resize(size), transforms.ToTensor()])
    ref = torch.stack([ref_tf(Image.fromarray(im.numpy(), mode="L")) for im in images])
    assert ours.shape == ref.shape == (16, 1, size, size)
    assert ours.is_contiguous(memory_format=torch.channels_last)
    assert (ours - ref).abs().max() < 2.5 / 255  # PIL rounds to uint8
    assert (ours - ref).abs().mean() < 0.5 / 255


def test_reference_match_on_real_images(full_data):
    images, labels = load_split("clothing", train=False, data_dir=full_data)
    x, _ = next(iter(TensorLoader(images[:64], labels[:64], 64, batch_size=64)))
    ref_tf = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])
    ref = torch.stack([ref_tf(Image.fromarray(im.numpy(), mode="L")) for im in images[:64]])
    assert (x - ref).abs().max() < 2.5 / 255


def test_load_split_reads_torchvision_layout(tiny_data):
    images, labels = load_split("digits", train=True, data_dir=tiny_data)
    assert images.dtype == torch.uint8 and images.shape == (512, 28, 28)
    assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(10))


def test_missing_data_offline_names_the_files_and_flag(tmp_path, monkeypatch):
    def offline(self):
        raise OSError("network unreachable")

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    with pytest.raises(DataNotFoundError) as err:
        load_split("digits", train=False, data_dir=tmp_path)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte" in msg and "--data-dir" in msg and "MNIST" in msg


def test_dataset_names():
    assert dataset_info("clothing").classes[0] == "T-shirt/top" and len(dataset_info("digits").classes) == 10
    with pytest.raises(ValueError, match="unknown dataset"):
        dataset_info("cifar")


def test_augment_is_seeded_and_bounded():
    images = torch.zeros(32, 28, 28, dtype=torch.uint8)
    images[:, 8:20, 12:16] = 255
    aug = AUGMENTS["digits"]
    a = aug(images, 64, torch.Generator().manual_seed(1))
    b = aug(images, 64, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (32, 1, 64, 64)
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.allclose(a[0], a[1])  # each image gets its own transform


def test_identity_augment_equals_resize():
    images = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    same = Augment()(images, 28)
    assert (same - resize(images, 28)).abs().max() < 1e-5


def test_hflip_mirrors():
    images = torch.zeros(64, 28, 28, dtype=torch.uint8)
    images[:, :, :6] = 255  # a bar on the left
    out = Augment(hflip=True)(images, 28, torch.Generator().manual_seed(0))
    left = out[..., :6].mean((1, 2, 3))
    assert 0.2 < (left < 0.5).float().mean() < 0.8  # about half were mirrored


def test_the_loader_shows_twins_at_their_share():
    images = torch.zeros(4000, 28, 28, dtype=torch.uint8)
    twins = torch.full((4000, 28, 28), 255, dtype=torch.uint8)
    labels = torch.zeros(4000, dtype=torch.long)
    for p in (0.0, 0.3, 1.0):
        loader = TensorLoader(images, labels, 28, 500, shuffle=True, seed=1, twins=twins, twin_p=p)
        shown = torch.cat([x.mean((1, 2, 3)) for x, _ in loader])
        assert shown.shape == (4000,) and set(shown.unique().tolist()) <= {0.0, 1.0}
        assert shown.mean().item() == pytest.approx(p, abs=0.03)


def test_flat_shot_flattens_the_item_and_casts_a_shadow():
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 8:20, 8:20] = torch.linspace(0.15, 1, 12)  # a shaded square: twelve grey levels
    out = flat_shot(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    for item in out[:, 0, 8:20, 8:20]:
        assert 2 <= len(item.unique()) <= 4  # flat fills
    around = out[:, 0, 21:23, 8:20]  # just below the item: its shadow, dimmer than any fill
    assert (around.amax((1, 2)) > 0.02).all() and (around.amax((1, 2)) < 0.4).all()
    assert (out[:, 0, :4].abs().sum() == 0) and (out[:, 0, :, :4].abs().sum() == 0)  # far away: background


def test_the_clothing_augment_can_flatten():
    images = torch.zeros(64, 28, 28, dtype=torch.uint8)
    images[:, 6:22, 6:22] = torch.arange(16, dtype=torch.uint8) * 12 + 60
    plain = Augment()(images, 28, torch.Generator().manual_seed(0))
    flat = Augment(flat=1.0)(images, 28, torch.Generator().manual_seed(0))
    assert len(plain[0].unique()) > 10 and len(flat[0, :, 8:20, 8:20].unique()) <= 4
