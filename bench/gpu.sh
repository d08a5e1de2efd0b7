#!/usr/bin/env bash
# The Dream benchmark on an NVIDIA GPU, in one call (about 5 minutes on an H100 or H200):
# the original's settings (SD v1, 50 steps x 0.45, guidance 7.5) and the fast preset with and
# without the tiny VAE, cadence and torch.compile, at 512 px in fp16; frames per minute and per
# second, the Live Dream loop's frames per second at 256 and 512 px (and 512 px compiled), each
# row with the GPU kernels' own share of a frame, written to bench/RESULTS.md.
#
# A lent GPU machine has PyTorch but not diffusers and cannot download: carry the wheels in .whl/
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 -d .whl \
#     diffusers==0.42.1 importlib_metadata imageio-ffmpeg==0.4.9 pillow_heif==1.8.1
# and this script installs them first. SIZE, BLOCKS and CASES override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c "import diffusers, imageio_ffmpeg" 2>/dev/null; then
  ls .whl/*.whl >/dev/null 2>&1 || { echo "error: diffusers is missing and no wheels are in .whl/ (see this script's header)" >&2; exit 2; }
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/giro-site .whl/*.whl
  export PYTHONPATH=/tmp/giro-site${PYTHONPATH:+:$PYTHONPATH}
fi
"$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'error: no CUDA GPU visible to torch')"
# TORCH_LOGS=recompiles: every recompile after the warm-up is logged with its reason (the tables count them).
export GIRO_DEVICE=cuda HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TORCH_LOGS=recompiles
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# shellcheck disable=SC2086  # CASES is a list of names
"$python" -m bench.dream --size "${SIZE:-512}" --blocks "${BLOCKS:-8}" \
  --cases ${CASES:-fast-before one-step +taesd +cadence3 default +compile +compile+cadence3}
"$python" -m bench.live --sizes 256 512 --frames "${LIVE_FRAMES:-40}" --compile 512
sed -n '/<!-- dream-cuda -->/,/<!-- \/dream-cuda -->/p;/<!-- live-cuda -->/,/<!-- \/live-cuda -->/p' bench/RESULTS.md
