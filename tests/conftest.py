from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
# The views' pictures are drawn in the test's own process, where a test can watch them (``drawn``); the painter
# processes have tests of their own (tests/test_painter.py), and every server a test starts has them.
os.environ["RESNET_PAINTERS"] = "0"
SHARED_DATA = ROOT.parent / "shared" / "data"


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any GRADIO_* or RESNET_* setting (a server started as its users start it), plus
    ``extra``."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "RESNET_"))} | extra


def wait_for_config(process: subprocess.Popen, url: str, within_s: float) -> httpx.Response:
    """Poll ``url``/config until it answers 200; fails with the process's output if it exits, or after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        assert process.poll() is None, process.stdout.read().decode()[-2000:]
        assert time.monotonic() < deadline, f"no answer from {url} within {within_s:.0f} s"
        try:
            response = httpx.get(url + "/config", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.25)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an IDX file as MNIST ships it (uint8 payload, big-endian dimensions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = 0x08
    header = struct.pack(">HBB", 0, kind, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A tiny MNIST / Fashion-MNIST lookalike in torchvision's raw layout: class c is a bar at row 2c."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for folder in ("MNIST", "FashionMNIST"):
        for split, n in (("train", 512), ("t10k", 128)):
            labels = np.arange(n) % 10
            images = rng.integers(0, 40, size=(n, 28, 28))
            for i, c in enumerate(labels):
                images[i, 4 + 2 * c : 6 + 2 * c, 4:24] = 255
            write_idx(root / folder / "raw" / f"{split}-images-idx3-ubyte", images)
            write_idx(root / folder / "raw" / f"{split}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="session")
def full_data() -> Path:
    """The full sets in ../shared/data; tests that need them skip when they are absent."""
    if not (SHARED_DATA / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists():
        pytest.skip(f"full MNIST / Fashion-MNIST not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def models():
    """Both shipped models, loaded once."""
    from resnet.checkpoint import load_model
    from resnet.evaluate import default_weights

    return {name: load_model(default_weights(name)) for name in ("digits", "clothing")}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def registry():
    """The shipped models in a registry shared by tests that only read it."""
    from resnet.registry import ModelRegistry

    return ModelRegistry()


@pytest.fixture(scope="session")
def shipped_ctx(registry, tmp_path_factory):
    """The app's context on the shared registry (tests that train or add models make their own)."""
    import app

    return app.Context.create(registry, tmp_path_factory.mktemp("runs"))


@pytest.fixture
def fresh_ctx(tmp_path):
    """A context of its own: models trained or added here stay here."""
    import app

    return app.Context.create(runs_dir=tmp_path)


@pytest.fixture
def drawn(monkeypatch) -> list[tuple[str, object]]:
    """(text, font) of every text drawn into a picture while the test runs (``pictures.draw_text``, recorded; the
    pictures are drawn in the test's process: ``$RESNET_PAINTERS`` is 0 in the tests, but where they start a
    server)."""
    from resnet import pictures

    texts: list[tuple[str, object]] = []
    original = pictures.draw_text

    def record(img, xy, text, fill, font):
        texts.append((text, font))
        return original(img, xy, text, fill, font)

    monkeypatch.setattr(pictures, "draw_text", record)
    return texts
