#!/usr/bin/env bash
# Device check for a GPU host: install, CUDA provider, CPU/CUDA agreement, then images/s on CUDA and on the same
# box's CPU for the fixtures, 1.5 MP and 12 MP photos (made with sharp). About 5-8 minutes on a GPU host.
#   bash scripts/gpu-check.sh          on a fresh clone (needs the npm registry, an NVIDIA GPU, CUDA 13, cuDNN 9)
#   bash scripts/gpu-check.sh --cpu    the same steps with the CPU provider and no install (checks the script)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=gpu provider=cuda n15=${GPU_CHECK_N15:-160} n12=${GPU_CHECK_N12:-40} cpu15=40 cpu12=16
if [ "${1:-}" = --cpu ]; then mode=cpu provider=cpu n15=8 n12=4 cpu15=8 cpu12=4; fi
start=$SECONDS
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
step() { printf '\n--- %s (%d s)\n' "$*" $((SECONDS - start)); }

if [ $mode = gpu ]; then
  step "npm ci: CPU install, models and their batch copies"
  npm ci --no-audit --no-fund
  step "npm run gpu:install: ONNX Runtime's CUDA provider (fails here, naming what is missing, without a GPU / CUDA 13 / cuDNN 9)"
  npm run --silent gpu:install
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi

step "agreement: CPU (unbatched) against $provider (default batch) on the fixtures, goal < 0.01 per face"
agreement=0
EXECUTION_PROVIDER=$provider npm run --silent agreement | tee "$log/agreement" | tail -n 1 || agreement=$?

bench() { # label provider args...
  local label=$1 p=$2; shift 2
  step "bench $label"
  EXECUTION_PROVIDER=$p npm run --silent bench -- "$@" | tee "$log/$label"
}
bench "fixtures-$provider" $provider --repeat 5
bench "1.5MP-$provider" $provider --synthetic-mp 1.5 --synthetic-count "$n15" --repeat 2
bench "12MP-$provider" $provider --synthetic-mp 12 --synthetic-count "$n12" --repeat 1
if [ $mode = gpu ]; then
  # The other session layout (own CUDA sessions per worker instead of one inference server per GPU), to pick the default.
  bench "fixtures-$provider-per-worker" $provider --sessions per-worker --repeat 5
  bench "1.5MP-$provider-per-worker" $provider --sessions per-worker --synthetic-mp 1.5 --synthetic-count "$n15" --repeat 2
  # The same box's CPU path, for the speed-up.
  bench "fixtures-cpu" cpu --repeat 2
  bench "1.5MP-cpu" cpu --synthetic-mp 1.5 --synthetic-count "$cpu15" --repeat 1
  bench "12MP-cpu" cpu --synthetic-mp 12 --synthetic-count "$cpu12" --repeat 1
fi

step "summary"
grep -h '^agreement' "$log/agreement" || echo "agreement: no result"
rate() { grep -h '^throughput' "$log/$1" | awk '{print $2}'; }
for label in fixtures 1.5MP 12MP; do
  line="$(printf '%-9s %s %8s images/s' "$label" "$provider" "$(rate "$label-$provider")")"
  if [ $mode = gpu ]; then
    line="$line   cpu $(rate "$label-cpu") images/s   x$(awk -v g="$(rate "$label-$provider")" -v c="$(rate "$label-cpu")" 'BEGIN { printf "%.1f", g / c }')"
  fi
  echo "$line"
done
if [ $mode = gpu ]; then
  for label in fixtures 1.5MP; do printf '%-9s %s %8s images/s (own sessions per worker)\n' "$label" "$provider" "$(rate "$label-$provider-per-worker")"; done
fi
printf 'total %d s\n' $((SECONDS - start))
exit $agreement
