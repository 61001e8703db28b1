#!/usr/bin/env bash
# ConvLab on an NVIDIA GPU, in one short run (well within 8 minutes):
#   1. a virtual environment with the `gpu` and `test` extras (CuPy);
#   2. tests/engine/test_gpu.py with CuPy (they skip without a device: counted as a failure here);
#   3. the window's offscreen tests (tests/ui) with CuPy as the backend;
#   4. a training step (AlexBN batch 8: forward, backward, SGD update) with its time;
#   5. benchmarks/device_bench.py on the device: AlexBN batch 1 and 64 with synchronisation, the
#      explorer's heavy setting and how fast it stops.
# Writes $OUT/gpu_check_summary.txt (or ./gpu_check_out/ when OUT is unset) with each step's
# status and time, the figures, and each step's log beside it. Exit status 0 only if every
# step passed. Usage, from the repository root:  bash benchmarks/gpu_check.sh
# Environment: PYTHON (default python3); GPU_WHEELS, a folder of wheels for machines that
# cannot reach the package index (pip then installs from there only).
set -u -o pipefail
cd "$(dirname "$0")/.."
out=${OUT:-./gpu_check_out}
mkdir -p "$out"
summary="$out/gpu_check_summary.txt"
started=$(date +%s)
budget=${GPU_CHECK_BUDGET:-420}  # seconds for all steps together: 7 minutes, under the 8 allowed
failures=0
: >"$summary"

note() { echo "$*" | tee -a "$summary"; }

# step NAME SECONDS COMMAND...: run with a time limit (never past the overall budget), log to
# $out/NAME.log, record the outcome
step() {
    local name=$1 limit=$2
    shift 2
    local t0 rc left
    t0=$(date +%s)
    left=$((budget - (t0 - started)))
    if [ "$left" -lt 15 ]; then
        note "SKIP  $name: the ${budget}s budget is spent"
        failures=$((failures + 1))
        return 1
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    local took=$(($(date +%s) - t0))
    if [ "$rc" -eq 0 ]; then
        note "PASS  $name (${took}s)"
    else
        [ "$rc" -eq 124 ] && note "FAIL  $name: timed out after ${limit}s" || note "FAIL  $name: exit $rc (${took}s)"
        tail -n 15 "$out/$name.log" | sed 's/^/      /' >>"$summary"
        failures=$((failures + 1))
    fi
    return "$rc"
}

note "ConvLab GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if command -v nvidia-smi >/dev/null 2>&1; then
    note "GPU: $(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)"
else
    note "GPU: nvidia-smi not found"
fi

venv=$(mktemp -d)/venv
# system site packages: a CuPy (and NumPy, Qt, pytest) already on the machine count too
step venv 30 "${PYTHON:-python3}" -m venv --system-site-packages "$venv"
py="$venv/bin/python"
pip_from=()
[ -n "${GPU_WHEELS:-}" ] && pip_from=(--no-index --find-links "$GPU_WHEELS")
if ! step install 150 "$py" -m pip install -q "${pip_from[@]}" -e ".[gpu,test]"; then
    note "      (no CuPy wheel reachable? set GPU_WHEELS to a folder holding cupy-cuda12x and the test"
    note "      extras; trying ConvLab alone over the packages already on the machine)"
    step install_offline 60 "$py" -m pip install -q --no-build-isolation --no-deps -e .
fi
step backend 30 "$py" -c "
from convlab.engine.backend import get_backend
b = get_backend(); print(b.description, b.reason)
raise SystemExit(0 if b.name == 'cupy' else 'CuPy is not the backend: ' + b.reason)"
note "backend: $(tail -n 1 "$out/backend.log")"

export QT_QPA_PLATFORM=offscreen
unset CONVLAB_BACKEND
# -rs lists skips: test_gpu skips everything when no device answers, which must not look green
step test_gpu 90 "$py" -m pytest -q -rs -p no:cacheprovider tests/engine/test_gpu.py
if grep -q "skipped" "$out/test_gpu.log" && ! grep -q " passed" "$out/test_gpu.log"; then
    note "FAIL  test_gpu: every test skipped (no CUDA device for CuPy)"
    failures=$((failures + 1))
fi
# a training step on the device: AlexBN batch 8, forward + backward (convlab.engine.grad) and a
# plain SGD update by hand (weights replaced, never written); the loss must fall on a fixed batch
step train_step 90 "$py" -c "
import time, numpy as np, cupy as cp
from convlab.engine.nets import build_network
from convlab.engine.grad import loss_and_grads
net = build_network('alexbn', seed=0, xp=cp)
x = cp.asarray(np.random.default_rng(0).standard_normal((8, 3, 227, 227), dtype=np.float32))
t, losses, times = np.arange(8) * 100, [], []
for i in range(6):
    t0 = time.perf_counter()
    loss, g = loss_and_grads(net, x, t, mode='train', rng=i, input_grad=False)
    for key, grad in g.params.items():
        name, p = key.split('/')
        net[name].params[p] = net[name].params[p] - 0.01 * grad
    cp.cuda.Device().synchronize()
    times.append(time.perf_counter() - t0); losses.append(loss)
print('train step AlexBN batch 8: %.1f ms (median of 5 after the first), loss %.3f -> %.3f'
      % (1000 * np.median(times[1:]), losses[0], losses[-1]))
raise SystemExit(0 if np.isfinite(losses).all() and losses[-1] < losses[0] else 'the loss did not fall')"
note "train: $(tail -n 1 "$out/train_step.log")"
step window 120 "$py" -m pytest -q -x -p no:cacheprovider tests/ui
step bench 120 "$py" benchmarks/device_bench.py --repeats 20 --batches 1 64 --json "$out/bench.json"
sed -n '1,20p' "$out/bench.log" >>"$summary"

note "total $(($(date +%s) - started))s; $failures step(s) failed"
[ "$failures" -eq 0 ]
