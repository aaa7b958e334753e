"""The app started exactly as a Hugging Face Space starts it: a fresh venv with only requirements.txt, then
``python app.py`` with the Space's host and port in the environment; /classify must answer.

It also measures the cold start (process start to the first answer), which the README reports.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import venv

import pytest
from conftest import ROOT, server_env, wait_for_config

pytestmark = pytest.mark.slow

SPACE_ENV = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7860"}  # what a Space sets


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def space_python(tmp_path_factory) -> str:
    """A venv with requirements.txt only (pip reads its indexes from this machine's config, as CI does)."""
    folder = tmp_path_factory.mktemp("space") / "venv"
    venv.create(folder, with_pip=True)
    python = str(folder / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt")],
        check=True,
        timeout=900,
    )
    return python


def test_the_space_starts_and_classifies(space_python, tmp_path):
    from gradio_client import Client, handle_file
    from PIL import Image

    from resnet.samples import load_samples

    if not port_free(7860):
        pytest.skip("port 7860 is taken on this machine")
    seven = tmp_path / "seven.png"
    Image.fromarray(255 - load_samples("digits").images[0]).save(seven)  # dark on light, as a photo of paper
    env = server_env(**SPACE_ENV)
    started = time.monotonic()
    process = subprocess.Popen(
        [space_python, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_config(process, "http://127.0.0.1:7860", 180)
        client = Client("http://127.0.0.1:7860", verbose=False)
        label = client.predict(image=handle_file(str(seven)), dataset="digits", api_name="/classify")
        cold_start = time.monotonic() - started
        assert label["label"] == "7"
        print(f"\ncold start to the first /classify answer: {cold_start:.1f} s", file=sys.stderr)
        if shutil.which("ss"):
            listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
            assert "0.0.0.0:7860" in listening or "*:7860" in listening  # every interface, as a Space needs
    finally:
        process.terminate()
        process.wait(20)
