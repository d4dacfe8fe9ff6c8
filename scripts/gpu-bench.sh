#!/usr/bin/env bash
# Device side: run model benchmark parts on a lent GPU machine and leave JSON, logs and ready-to-paste
# Markdown rows in $OUT. Needs the wheels from scripts/gpu-wheels.sh in .whl/ (carried); microverse
# itself runs from the source tree (PYTHONPATH), nothing is pip-installed but the wheels.
#
#   bash scripts/gpu-bench.sh gen            # call 1 (~6-7 min on an H100, estimated from FLOP counts)
#   bash scripts/gpu-bench.sh cache train    # call 2 (~6 min)
#   (put `smoke` first in call 1 only if the code changed since its last CPU check; it adds ~2 min)
#
# Parts (in the order given; the first that fails stops the rest):
#   smoke : real 1.3B architecture at 480x832, 5 frames, 2 steps, every generation mode, and 2 training
#           steps of batch 2 -- one to two minutes that catch any failure before the long parts
#   gen   : stock WanPipeline vs ours (batched CFG + fastest attention + compiled blocks), then ours with
#           First-Block-Cache 0.05, 480x832x81, 50 steps, CFG 5 -> gen.json
#   cache : ours uncompiled, without and with First-Block-Cache (0.05) -> cache.json
#   train : `microverse train` from a 480x832x81 latent cache, full fine-tune, batch 8, 4 steps -> train.json
# Every part runs under a timeout that ends the whole command before the tool's 10-minute limit
# (BUDGET_S, default 570 s); a part cut short still leaves the JSON of the modes it finished.
# BENCH_ARGS is appended to every benchmark command: `OUT=/tmp/o BENCH_ARGS=--tiny bash scripts/gpu-bench.sh
# smoke gen cache train` checks this script's plumbing on a CPU in a minute (tiny model).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/microverse-gpu-out}
mkdir -p "$OUT"
BUDGET_S=${BUDGET_S:-570}
START=$SECONDS

if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "wheel install failed"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
BENCH_ARGS=${BENCH_ARGS:-}
ENV=$(python3 -c "import torch, diffusers, transformers, accelerate; import microverse.model.pipelines.pipeline_microverse;
print(f'torch {torch.__version__}, diffusers {diffusers.__version__}, transformers {transformers.__version__}, '
      f'accelerate {accelerate.__version__}, gpu {torch.cuda.get_device_name() if torch.cuda.is_available() else None}')") \
  || { echo "imports failed (were the wheels carried? run scripts/gpu-wheels.sh here, carry .whl)"; exit 1; }
echo "$ENV"

run_part() {  # name, seconds wanted, command...
  local name=$1 want=$2; shift 2
  local left=$((BUDGET_S - (SECONDS - START)))
  local limit=$((want < left ? want : left))
  if ((limit < 30)); then echo "== $name skipped: ${left}s of the budget left"; return 1; fi
  echo "== $name (limit ${limit}s): $*"
  { echo "$ENV"; timeout "$limit" "$@"; } 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  grep -h '^| ' "$OUT/$name.log" >> "$OUT/rows.md"
  echo "== $name: exit $rc after $((SECONDS - START))s in all"
  return "$rc"
}

for part in "$@"; do
  case $part in
    smoke)
      run_part smoke 240 bash -c "python3 benchmarks/generate_gpu.py --frames 5 --steps 2 --modes stock,eager,cache,ours,ours_cache $BENCH_ARGS \
        && python3 benchmarks/train_throughput.py --frames 5 --steps 2 --batch-size 2 $BENCH_ARGS" ;;
    gen)   run_part gen 570 python3 benchmarks/generate_gpu.py --modes stock,ours,ours_cache --out "$OUT/gen.json" $BENCH_ARGS ;;
    cache) run_part cache 300 python3 benchmarks/generate_gpu.py --modes eager,cache --out "$OUT/cache.json" $BENCH_ARGS ;;
    train) run_part train 360 python3 benchmarks/train_throughput.py --steps 4 --batch-size 8 --out "$OUT/train.json" $BENCH_ARGS ;;
    *) echo "unknown part $part (smoke, gen, cache, train)"; exit 2 ;;
  esac || { echo "part $part failed; stopping"; exit 1; }
done
echo "== rows for docs/benchmarks/model.md:"
cat "$OUT/rows.md" 2>/dev/null
