#!/usr/bin/env bash
# Run tests (default: the GUI tests) with CPU burners beside them, as on a loaded CI
# machine: a test that depends on how far a worker got in a given time fails here.
#   bash scripts/test_under_load.sh [pytest args...]     BURNERS=2 ROUNDS=1 by default
set -euo pipefail
cd "$(dirname "$0")/.."
BURNERS=${BURNERS:-2}
ROUNDS=${ROUNDS:-1}
PY=${VENV:-.venv}/bin/python
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$BURNERS"); do
  "$PY" -c "while True: pass" &
  pids+=($!)
done
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(tests/widgets)
for r in $(seq "$ROUNDS"); do
  echo "test-under-load: round $r of $ROUNDS with $BURNERS CPU burners (load $(cut -d' ' -f1 /proc/loadavg))"
  env -u QT_QPA_PLATFORM -u PYTHONDONTWRITEBYTECODE "$PY" -m pytest -q "${args[@]}"
done
