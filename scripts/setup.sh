#!/usr/bin/env bash
# Set up everything on a fresh machine: a virtual environment in .venv with the app's requirements.
#   bash scripts/setup.sh          # to run the app
#   bash scripts/setup.sh --dev    # also test tools and Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
reqs=requirements.txt
if [ "${1:-}" = "--dev" ]; then
  reqs=requirements-dev.txt
  # Chromium for the browser tests; a CJK font so that the Chinese shows in screenshots and charts, a colour-emoji
  # font for the hints' emoji; nginx for scripts/serve.sh (tests/test_serve.py); the Latin and handwriting fonts that
  # resnet/fontdigits.py sets digits in for training (FONT_PACKAGES there).
  FONTS="fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-freefont-ttf fonts-urw-base35 fonts-cantarell
    fonts-lato fonts-comic-neue fonts-humor-sans fonts-dkg-handwriting fonts-breip fonts-bwht fonts-femkeklaver
    fonts-dancingscript fonts-kaushanscript fonts-klee fonts-kristi"
  if ! { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } || ! fc-list 2>/dev/null | grep -qi "CJK" \
    || ! fc-list 2>/dev/null | grep -qi "emoji" || ! fc-list 2>/dev/null | grep -qi "dkg" || ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }; then
    if [ "$(id -u)" = 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji nginx-light $FONTS >/dev/null
    else
      echo "note: install Debian's chromium, fonts-noto-cjk, fonts-noto-color-emoji and nginx-light (sudo apt-get install ...) for the browser and serving tests, and $FONTS for training digits with --fonts" >&2
    fi
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs"
echo "ready: .venv ($(.venv/bin/python -c 'import torch, gradio; print("torch", torch.__version__, "gradio", gradio.__version__)'))"
