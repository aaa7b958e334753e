"""scripts/serve.sh: the app as two processes behind Debian's nginx, sticky per browser, pictures and all."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, server_env, wait_for_config

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_behind_nginx_answer_with_their_pictures(tmp_path):
    """Every call through nginx lands on the worker that holds its upload (sticky), and the pictures an answer
    names load through nginx (their URLs carry nginx's port, not the worker's)."""
    if not Path(NGINX).exists():
        pytest.skip("Debian's nginx is not installed (scripts/setup.sh --dev installs it)")
    from PIL import Image

    from resnet.samples import load_samples

    port = free_port()
    seven = tmp_path / "seven.png"
    Image.fromarray(load_samples("digits").images[0]).save(seven)
    env = server_env(PYTHON=sys.executable, RESNET_RUNS_DIR=str(tmp_path / "runs"))
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        first = wait_for_config(process, url, 240)  # nginx and both workers
        assert "route=" in first.headers.get("set-cookie", "")  # the browser's ticket to its worker
        for _ in range(4):  # each a new browser (its own cookies): a new route, either worker
            with httpx.Client(base_url=url, timeout=60) as browser:
                upload = browser.post("/gradio_api/upload", files={"files": ("7.png", seven.read_bytes())})
                image = {"path": upload.json()[0], "meta": {"_type": "gradio.FileData"}}
                event = browser.post("/gradio_api/call/explain", json={"data": [image, "digits", []]}).json()
                stream = browser.get(f"/gradio_api/call/explain/{event['event_id']}").text
                assert "event: complete" in stream, stream[-500:]  # the upload was on this call's worker
                answer = json.loads(stream.split("event: complete\ndata:", 1)[1].split("\n", 1)[0])
                assert answer[0]["label"] == "7"
                pictures = [value["url"] for value in answer[1:4]]
                assert all(p.startswith(url + "/") for p in pictures), pictures  # nginx's address, not a worker's
                for picture in pictures:  # as the page loads them
                    assert Image.open(io.BytesIO(browser.get(picture).raise_for_status().content)).size[0] > 100
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
