#!/usr/bin/env bash
# Prepares the prior caches of all seven datasets in ../shared/data (METHOD.md §4), resuming any
# that a killed run left half done.
#
#   scripts/prepare-shared-data.sh [cache dir, default ../cache] [datasets, default all seven]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-../cache}
data=../shared/data
only=" ${2:-ckplus_au fer2013 utkface celebahq_attr unlabeled_faces fer2013_extra utkface_extra} "
# FER2013's 48x48 crops are too tight for the detector without a border (METHOD.md §1).
for spec in "ckplus_au 0.2" "fer2013 0.5" "utkface 0.2" "celebahq_attr 0" "unlabeled_faces 0" "fer2013_extra 0.5" "utkface_extra 0.2"; do
  set -- $spec
  [[ "$only" == *" $1 "* ]] || continue
  echo "== $1 (pad $2)"
  node dist/src/cli/main.js prepare --data "$data/$1" --out "$out/$1" --pad "$2"
done
