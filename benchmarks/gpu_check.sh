#!/usr/bin/env bash
# ConvLab on an NVIDIA GPU, in one short run (well within 8 minutes):
#   1. a virtual environment with the `gpu` and `test` extras (CuPy);
#   2. tests/engine/test_gpu.py with CuPy (they skip without a device: counted as a failure here);
#   3. the window's offscreen tests (tests/ui) with CuPy as the backend;
#   4. benchmarks/device_bench.py on the device: AlexBN batch 1 and 64 with synchronisation, the
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
step window 120 "$py" -m pytest -q -x -p no:cacheprovider tests/ui
step bench 120 "$py" benchmarks/device_bench.py --repeats 20 --batches 1 64 --json "$out/bench.json"
sed -n '1,20p' "$out/bench.log" >>"$summary"

note "total $(($(date +%s) - started))s; $failures step(s) failed"
[ "$failures" -eq 0 ]
