# Sourced by scripts/bench-import, bench-import-codex and bench-import-gemini: how a run is
# measured, and one round of runs with and without agentprof's history cache.
#
# A round runs, in this order, each right after warm() has read the history (so every run
# starts from a warm page cache) and each under `/usr/bin/time -v`:
#   1. agentprof import AGENT HISTORY --json --no-cache: today's path, everything read; its
#      $AGENTPROF_CACHE_DIR is a directory that must stay absent;
#   2. agentprof cold: a fresh empty $AGENTPROF_CACHE_DIR, so it reads everything and writes
#      the cache;
#   3. agentprof warm: the same cache directory again;
#   4. ccusage.
# Their JSON goes to $work/agentprof.json (--no-cache), agentprof-cold.json,
# agentprof-warm.json and ccusage.json; "<wall s> <peak RSS KiB> <CPU s>" of each to the arrays
# agentprof_runs (--no-cache), cold_runs, warm_runs and ccusage_runs.
#
# The caller sets root, agentprof, work and threads, and defines warm().

agentprof_runs=()
cold_runs=()
warm_runs=()
ccusage_runs=()

# "<wall seconds> <peak RSS KiB> <CPU seconds>" of one command, its stdout to OUT and time's
# report to REPORT: wall from the shell's microsecond clock (time -v rounds to 10 ms), peak RSS
# and CPU (user + system) from `time -v`'s report. On a shared machine the CPU time says more
# than the wall time.
measure() {
    local report=$1 out=$2
    shift 2
    local start end rss cpu
    start=$EPOCHREALTIME
    /usr/bin/time -v "$@" > "$out" 2> "$report"
    end=$EPOCHREALTIME
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$report")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$report")
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", b - a}') $rss $cpu"
}

# Stops the benchmark unless $agentprof has the history cache (`import … --no-cache`).
require_history_cache() {
    if ! "$agentprof" import claude-code --help 2>&1 | grep -q -- '--no-cache'; then
        echo "error: $agentprof has no history cache (its import has no --no-cache):" \
            "benchmark a build of the branch that has it (AGENTPROF=path/to/agentprof)" >&2
        exit 2
    fi
}

# One round: AGENT is agentprof's import (claude-code, codex, gemini); the rest is ccusage's
# command line, its environment given with `env VAR=value …` in front.
bench_round() {
    local agent=$1
    shift
    local import=("$agentprof" import "$agent" "$work/history" --json --threads "$threads")
    warm
    agentprof_runs+=("$(AGENTPROF_CACHE_DIR="$work/no-cache" \
        measure "$work/agentprof.time" "$work/agentprof.json" "${import[@]}" --no-cache)")
    rm -rf "$work/cache"
    mkdir -p "$work/cache"
    warm
    cold_runs+=("$(AGENTPROF_CACHE_DIR="$work/cache" \
        measure "$work/agentprof-cold.time" "$work/agentprof-cold.json" "${import[@]}")")
    warm
    warm_runs+=("$(AGENTPROF_CACHE_DIR="$work/cache" \
        measure "$work/agentprof-warm.time" "$work/agentprof-warm.json" "${import[@]}")")
    warm
    ccusage_runs+=("$(measure "$work/ccusage.time" "$work/ccusage.json" "$@")")
}

# "round N: …" for the round just run.
say_round() {
    local line="round $1:" label run wall rss cpu
    for label in no-cache cold warm ccusage; do
        case $label in
            no-cache) run=${agentprof_runs[-1]} ;;
            cold) run=${cold_runs[-1]} ;;
            warm) run=${warm_runs[-1]} ;;
            ccusage) run=${ccusage_runs[-1]} ;;
        esac
        read -r wall rss cpu <<< "$run"
        line+=" $label $wall s (CPU $cpu s) $rss KiB;"
    done
    echo "${line%;}"
}

# The cache's table and checks (scripts/lib/bench_import_cache.py); fails when the three
# agentprof runs disagree.
cache_summary() {
    python3 "$root/scripts/lib/bench_import_cache.py" "$work" "$1" \
        "${agentprof_runs[@]}" -- "${cold_runs[@]}" -- "${warm_runs[@]}" -- "${ccusage_runs[@]}"
}
