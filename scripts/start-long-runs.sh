#!/usr/bin/env bash
# Starts scripts/long-runs.sh in the background, first thing in a session: from a separate checkout
# (default ../run-tree) moved to this checkout's HEAD, so that work and commits here never change
# the code a run is executing, with the records sent back here (RECORDS) to commit. Long runs
# already running are stopped first; every step resumes, so a restart loses at most the steps
# since a run's last checkpoint. The older log is kept beside the new one.
#
#   scripts/start-long-runs.sh [run checkout, default ../run-tree] [cache dir, default ../cache] [runs dir, default ../runs]
#
# Pause and resume them with kill -STOP / -CONT -<process group>, which this prints.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
tree=$(realpath -m "${1:-../run-tree}")
cache=$(realpath -m "${2:-../cache}")
runs=$(realpath -m "${3:-../runs}")

long_runs_group() { ps -eo pgid=,args= | awk '/bash scripts\/long-runs\.sh/ { print $1; exit }'; }
running=$(long_runs_group)
if [ -n "$running" ]; then
  echo "stopping the long runs already running (process group $running)"
  kill -- -"$running"
  sleep 2
fi
# With autogroup, each session's shell is its own scheduling group and nice values only count
# inside it; off, the runs' nice -5 gives them the cores whenever a session's work is idle.
[ -w /proc/sys/kernel/sched_autogroup_enabled ] && echo 0 > /proc/sys/kernel/sched_autogroup_enabled

[ -d "$tree/.git" ] || git clone -q "$here" "$tree"
git -C "$tree" fetch -q "$here" HEAD
git -C "$tree" checkout -q --detach FETCH_HEAD
if [ -d "$tree/node_modules" ]; then
  (cd "$tree" && npm run build > /dev/null)
else
  (cd "$tree" && ONNXRUNTIME_NODE_INSTALL=skip npm ci > /dev/null)
fi

mkdir -p "$runs"
log="$runs/long-runs.log"
[ -f "$log" ] && mv "$log" "$runs/long-runs-$(date -u +%Y%m%dT%H%M%SZ).log"
cd "$tree"
RECORDS="$here" nohup setsid nice -n -5 scripts/long-runs.sh "$cache" "$runs" > "$log" 2>&1 &
sleep 1
pgid=$(long_runs_group)
echo "long runs started at $(git log --oneline -1 | cut -c1-60)"
echo "  process group $pgid; log $log; records to $here"
