"""resnet/realpaths.py answers as Gradio's own check does, with folders' real paths remembered."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from resnet import realpaths


def gradio_is_in_or_equal(path_1: str | Path, path_2: str | Path) -> bool:
    """The reference: ``gradio.utils.is_in_or_equal`` as Gradio 6 writes it (both paths resolved afresh)."""
    path_1, path_2 = Path(os.path.abspath(str(path_1))).resolve(), Path(os.path.abspath(str(path_2))).resolve()
    try:
        path_1.relative_to(path_2)
        return True
    except ValueError:
        return False


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> list[str]:
    """Files, folders, links to each, a dangling link, missing paths, relative and unnormalised spellings."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cache" / "abc").mkdir(parents=True)
    (tmp_path / "cache" / "abc" / "x.png").write_bytes(b"png")
    (tmp_path / "cachet").mkdir()  # a sibling whose name starts with the other's
    (tmp_path / "cachet" / "y.png").write_bytes(b"png")
    (tmp_path / "linked").symlink_to(tmp_path / "cache")
    (tmp_path / "cachet" / "to-x.png").symlink_to(tmp_path / "cache" / "abc" / "x.png")
    (tmp_path / "cache" / "dangling").symlink_to(tmp_path / "nowhere")
    root = str(tmp_path)
    return [
        f"{root}/cache",
        f"{root}/cache/",
        f"{root}/cache/abc",
        f"{root}/cache/abc/x.png",
        f"{root}/cachet",
        f"{root}/cachet/y.png",
        f"{root}/cachet/to-x.png",
        f"{root}/linked",
        f"{root}/linked/abc/x.png",
        f"{root}/cache/dangling",
        f"{root}/cache/missing/z.png",
        f"{root}/cache/abc/../../cachet/y.png",
        f"{root}/CACHE/abc/x.png".lower(),  # Gradio compares blocked paths lowercased
        "cache/abc/x.png",
        "./cachet",
        "/",
    ]


def test_the_answers_are_gradios_for_every_pair(tree):
    for path_1, path_2 in itertools.product(tree, repeat=2):
        assert realpaths.is_in_or_equal(path_1, path_2) == gradio_is_in_or_equal(path_1, path_2), (path_1, path_2)
        assert realpaths.is_in_or_equal(Path(path_1), Path(path_2)) == gradio_is_in_or_equal(path_1, path_2)


def test_a_file_made_after_its_folder_was_remembered_is_found_in_it(tree, tmp_path):
    folder = tmp_path / "cache" / "def"
    folder.mkdir()
    assert realpaths.is_in_or_equal(folder / "late.png", tmp_path / "cache")  # remembered while still empty
    (folder / "late.png").write_bytes(b"png")
    (folder / "to-y.png").symlink_to(tmp_path / "cachet" / "y.png")  # a link made later is still followed
    assert realpaths.is_in_or_equal(folder / "late.png", tmp_path / "linked")
    assert not realpaths.is_in_or_equal(folder / "to-y.png", tmp_path / "cache")
    assert realpaths.is_in_or_equal(folder / "to-y.png", tmp_path / "cachet")


def test_a_folder_is_resolved_once_then_a_file_costs_one_lstat(tmp_path, monkeypatch):
    folder = tmp_path / "cache" / "abc"
    folder.mkdir(parents=True)
    realpaths.real_folder.cache_clear()
    realpaths.is_in_or_equal(folder / "x.png", tmp_path / "cache")
    calls: list[str] = []
    lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: calls.append(p) or lstat(p, *a, **k))
    assert realpaths.is_in_or_equal(folder / "x.png", tmp_path / "cache")
    assert calls == [str(folder / "x.png"), str(tmp_path / "cache")]  # one each; Gradio's: one per component
