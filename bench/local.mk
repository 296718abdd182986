EXTRA_DIST += bench/run.sh bench/RESULTS.md
