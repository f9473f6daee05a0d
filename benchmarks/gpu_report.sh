#!/usr/bin/env bash
# Every GPU claim in docs/gpu.md, checked on this GPU node in one command; each part's output goes to OUTDIR/<part>.log
# and a one-line result per part to OUTDIR/summary.txt. Run it on a GPU node and send us the folder.
#
#   benchmarks/gpu_report.sh [OUTDIR] [PART ...]      (default: gpu-report/, every part, in this order)
#
# Parts (about 20 minutes in all on one H100; run them in groups where a job has a shorter limit):
#   doctor      repro doctor --require-gpu: torch, torchvision, CUDA, cuDNN, bf16
#   gpu-tests   pytest -m gpu: meta-gradient vs the reference in float64 on CUDA, bf16 vs fp32, deterministic
#               resume on CUDA, the levers on and off (about 2 min)
#   bf16        python -m benchmarks.bf16_precision --device cuda: bf16 meta-gradient error against float64
#   meta-step   python -m benchmarks.meta_step --device cuda: the lever table (ResNet18, WRN-28-10, VGG16; ~6 min)
#   epoch       benchmarks/epoch_time.py on a full-size fabricated CIFAR-100, ResNet18 (epoch vs steps + eval)
#   bench       repro bench --no-save: the per-step costs a sweep's GPU-hour estimate uses
#   concurrency repro bench --no-save --kinds plain meta --no-epochs --concurrency 2 4 8: every model's aggregate
#               steps per second at K = 1, 2, 4 and 8 runs side by side, and one run's peak memory (--runs-per-gpu K),
#               for the plain step and the learned labels' look-ahead step apart (about a minute per model and kind
#               on one H100: four models' plain steps took 270 s)
#   determinism benchmarks/epoch_time.py on the fabricated CIFAR-100, ResNet18, instance labels, with and without
#               deterministic=true: what bit-identical resumes cost per epoch
#   tests       the whole suite but SLURM (`make test` passes on a CUDA machine); TESTS="not slurm and not slow" runs
#               the fast tier alone (the default: "not slurm")
#
# TEST_ARGS sets pytest's process options for gpu-tests and tests ("-n 8 --dist loadgroup" by default; TEST_ARGS= for
# one process). LIMIT=S sets every part's time limit to S seconds (each part's own otherwise), for a lease shorter than
# the whole report: a part cut at its limit says "exit 124" in summary.txt and keeps its log.
#
# MODELS="resnet18 vgg16" limits meta-step, bench and concurrency to those models (a short job's limit); CONCURRENCY
# ="2 4" sets the K values (default 2 4 8: a large network's look-ahead at K=8 may not fit the GPU); KINDS=
# "weight_lookahead weighting_net_lookahead" the step kinds concurrency times (default "plain meta").
#
# PYTHON picks the interpreter (default .venv/bin/python, else python3). On a node without internet whose image
# has torch but not this project's other packages, WHEELS=DIR installs the wheels that benchmarks/gpu_wheels.sh
# downloaded (on a machine with internet) into a private folder first.
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR=${1:-gpu-report}
shift || true
PARTS=("$@")
ALL_PARTS=(doctor gpu-tests bf16 meta-step epoch bench concurrency determinism tests)
[ ${#PARTS[@]} -eq 0 ] && PARTS=("${ALL_PARTS[@]}")
for part in "${PARTS[@]}"; do  # refused before anything runs or is written
    [[ " ${ALL_PARTS[*]} " == *" $part "* ]] || { echo "unknown part '$part': choose from ${ALL_PARTS[*]}" >&2; exit 2; }
done
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
MODEL_ARGS=()
[ -n "${MODELS:-}" ] && read -ra MODEL_ARGS <<<"--models $MODELS"
mkdir -p "$OUTDIR"
# Every part runs `python -m` from the checkout (the cd above), which finds `repro` and `benchmarks` by name.
export PYTHONUNBUFFERED=1 WANDB_MODE=offline WANDB_DIR="$OUTDIR/wandb"
mkdir -p "$WANDB_DIR"
if [ -n "${WHEELS:-}" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/repro-site "$WHEELS"/*.whl \
        || { echo "could not install the wheels in $WHEELS" >&2; exit 2; }
    export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}/tmp/repro-site"  # the wheels' packages, not the checkout
fi

run_part() {  # name, time limit (s), command...
    local name=$1 limit=${LIMIT:-$2} started rc
    shift 2
    started=$(date +%s)
    echo "== $name: $*"
    timeout "$limit" "$@" >"$OUTDIR/$name.log" 2>&1
    rc=$?
    tail -n 25 "$OUTDIR/$name.log"
    echo "$name: exit $rc in $(( $(date +%s) - started )) s" | tee -a "$OUTDIR/summary.txt"
    gpu_idle_or_say "$name"
}

gpu_idle_or_say() {  # the next part times an idle GPU: wait (60 s at most) for the processes of a part cut at its limit
    command -v nvidia-smi >/dev/null || return 0
    local left
    for _ in $(seq 60); do
        left=$(nvidia-smi --query-compute-apps=pid --format=csv,noheader 2>/dev/null | wc -l)
        [ "$left" -eq 0 ] && return 0
        sleep 1
    done
    echo "warning: $left process(es) still on the GPU 60 s after $1; the next part's timings share it" \
        | tee -a "$OUTDIR/summary.txt"
}

{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1;
  "$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)'; git rev-parse HEAD 2>&1; } \
    | tee "$OUTDIR/summary.txt"
for part in "${PARTS[@]}"; do
    case $part in
        doctor) run_part doctor 120 "$PY" -m repro.cli doctor --require-gpu ;;
        gpu-tests) run_part gpu-tests 900 "$PY" -m pytest -q -p no:cacheprovider -m gpu ${TEST_ARGS--n 8 --dist loadgroup} ;;
        bf16) run_part bf16 600 "$PY" -m benchmarks.bf16_precision --device cuda ;;
        meta-step) run_part meta-step 1200 "$PY" -m benchmarks.meta_step --device cuda "${MODEL_ARGS[@]}" ;;
        epoch) run_part epoch 900 "$PY" -m benchmarks.epoch_time --device cuda --data cifar100 --model resnet18 ;;
        bench) run_part bench 600 "$PY" -m repro.cli bench --no-save "${MODEL_ARGS[@]}" ;;
        concurrency) run_part concurrency 1800 "$PY" -m repro.cli bench --no-save --kinds ${KINDS:-plain meta} --no-epochs \
            --concurrency ${CONCURRENCY:-2 4 8} "${MODEL_ARGS[@]}" ;;
        determinism) run_part determinism 900 bash -c "for d in false true; do echo \"== deterministic=\$d\"; \
            \"$PY\" -m benchmarks.epoch_time --device cuda --data cifar100 --model resnet18 --methods instance_labels \
            --repeats 2 deterministic=\$d || exit; done" ;;
        tests) run_part tests 1800 "$PY" -m pytest -q -p no:cacheprovider -m "${TESTS:-not slurm}" ${TEST_ARGS--n 8 --dist loadgroup} ;;
        *) echo "unknown part '$part'" >&2; exit 2 ;;  # not reached: checked above
    esac
done
