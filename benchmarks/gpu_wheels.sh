#!/usr/bin/env bash
# Wheels of the packages a GPU image with torch usually lacks (hydra, omegaconf, submitit, wandb and what wandb
# needs), at requirements/constraints.txt's versions, for a GPU node without internet:
#
#   benchmarks/gpu_wheels.sh DIR [PYTHON_VERSION]     # here, with internet; PYTHON_VERSION of the node, e.g. 3.12
#   WHEELS=DIR benchmarks/gpu_report.sh ...           # there
#
# Not torch, torchvision, numpy, pandas, matplotlib, scipy, scikit-learn: the node's own builds are used (pip would
# otherwise replace a site torch). About 24 MB, most of it wandb.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:?usage: benchmarks/gpu_wheels.sh DIR [PYTHON_VERSION]}
PYVER=${2:-3.12}
PACKAGES=(hydra-core omegaconf submitit wandb cwevals opentelemetry-api opentelemetry-sdk
          opentelemetry-exporter-otlp-proto-http opentelemetry-exporter-otlp-proto-common opentelemetry-proto
          opentelemetry-semantic-conventions opentelemetry-exporter-http-transport opentelemetry-exporter-otlp-common
          googleapis-common-protos pydantic pydantic_core annotated-types typing-inspection platformdirs distro sniffio)
pin() {  # the exact version of $1 in requirements/constraints.txt
    grep -m 1 -i "^$1==" requirements/constraints.txt || { echo "$1 is not in constraints.txt" >&2; exit 2; }
}
mkdir -p "$DIR"
PLATFORMS=()
for tag in manylinux_2_17 manylinux2014 manylinux_2_24 manylinux_2_28 manylinux_2_31 manylinux_2_34; do
    PLATFORMS+=(--platform "${tag}_x86_64")
done
for name in "${PACKAGES[@]}"; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
        "${PLATFORMS[@]}" -d "$DIR" "$(pin "$name")"
done
# antlr4-python3-runtime (hydra's parser) is published only as a source archive: build its pure-Python wheel here.
python3 -m pip wheel -q --no-deps -w "$DIR" "$(pin antlr4-python3-runtime)"
du -sh "$DIR"
