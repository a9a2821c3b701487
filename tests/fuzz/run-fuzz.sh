#!/bin/sh
# Runs one libFuzzer target for a fixed time over its seed corpus.
# New inputs go to a corpus in the build tree, never into the sources.
# A crash, leak or sanitizer report fails the test and leaves the input in
# the build tree (crash-*) for `target crash-file` to replay.
# usage: run-fuzz.sh TARGET SEED_DIR WORK_DIR SECONDS
set -eu
target=$1 seeds=$2 work=$3 seconds=$4
# meson passes the target relative to the build directory: resolve it
# before changing directory.
case $target in
/*) ;;
*) target=$PWD/$target ;;
esac
mkdir -p "$work"
cd "$work"
# libFuzzer reports a finding with exit code 77 by default, which meson
# would count as a skipped test: make every finding a failure.
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 "$work" "$seeds"
