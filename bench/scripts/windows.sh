#!/usr/bin/env bash
# Per-window throughput of the bench's child JVM (TrialMain), variants alternated round by round: for a start-up
# transient that the runner's medians hide (docs/PERFORMANCE.md, changes 21 and 22). One line per variant and round,
# "name mops,mops,..." (one figure per 1 s window), after a "# time load round" line; bench/scripts/windows.py
# turns it into per-window ratios against the first variant.
#
#   W=random_mixed_256 T=2 R=5 bench/scripts/windows.sh plain=hakmem sampled=hakmem-guard-sample \
#       'never=hakmem-guard-sample -Dhakmem.bench.sampleRate=536870912' > runs.txt
#   python3 bench/scripts/windows.py runs.txt
#
# A variant is "name=allocator [JVM flags...]"; its flags come after the default class path, so "-cp OTHER.jar"
# runs another build (before/after comparisons). Environment: W workload, T threads, R rounds, N windows (8),
# WARMUP seconds (0.5, the runner's), JAVA (a JDK 25 java; default: $JAVA_HOME/bin/java). Run from the repository's
# root after `mvn -pl cli -am package -DskipTests`.
set -eu
W=${W:-random_mixed_256}; T=${T:-2}; R=${R:-5}; N=${N:-8}; WARMUP=${WARMUP:-0.5}
JAVA=${JAVA:-${JAVA_HOME:?set JAVA or JAVA_HOME to a JDK 25}/bin/java}
[ $# -gt 0 ] || { echo "usage: windows.sh name=allocator[ flags...] ..." >&2; exit 2; }
for i in $(seq 1 "$R"); do
  echo "# $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) round $i"
  for v in "$@"; do
    name=${v%%=*}; rest=${v#*=}; allocator=${rest%% *}; flags=${rest#"$allocator"}
    # The runner's own child flags (bench.runner.ChildJvm): a fixed, pre-touched Java heap; jemalloc's TLS tunable.
    # shellcheck disable=SC2086
    line=$(GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 "$JAVA" -Xms256m -Xmx256m -XX:+AlwaysPreTouch \
      --enable-native-access=ALL-UNNAMED -cp cli/target/hakmem-cli.jar $flags \
      dev.hakmem.bench.runner.TrialMain "$W" "$allocator" "$T" "$WARMUP" 1.0 "$N" 2>&1 | grep '^RESULT' || true)
    mops=$(sed -e 's/.*mops=\([^ ]*\).*/\1/' <<< "$line")
    echo "$name ${mops:-FAILED}"
  done
done
