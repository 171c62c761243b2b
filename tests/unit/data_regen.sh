#!/bin/sh
# data_regen.sh: regenerate one bundled data file with gendata, twice, and compare both runs
# byte for byte with the committed copy, so data/ never drifts from the program that documents
# it and the program stays deterministic.
#   data_regen.sh GENDATA DATA_DIR spy
#   data_regen.sh GENDATA DATA_DIR synth SYMBOL
set -eu
gendata=$1
data=$2
kind=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
case $kind in
spy)
    file=$data/SPY.csv
    set -- spy "$data/sources/SPY_daily_returns.csv"
    ;;
synth)
    file=$data/$4.synthetic.csv
    set -- synth "$4" "$data/SPX.csv"
    ;;
*)
    echo "data_regen.sh: unknown kind $kind" >&2
    exit 2
    ;;
esac
for run in 1 2; do
    "$gendata" "$@" >"$tmp/out"
    if ! cmp "$tmp/out" "$file"; then
        echo "data_regen.sh: run $run: $file differs from gendata $*; see data/README.md" >&2
        exit 1
    fi
done
