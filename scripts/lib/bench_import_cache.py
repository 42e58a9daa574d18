"""The history cache's part of scripts/bench-import*: medians of agentprof's --no-cache, cold
and warm runs and of ccusage's, the ratios (warm vs ccusage, cold vs --no-cache), and the check
that the three agentprof runs report the same figures. Exits 1 when they do not.

Usage: bench_import_cache.py WORK BYTES NO_CACHE_RUNS… -- COLD_RUNS… -- WARM_RUNS… -- CCUSAGE_RUNS…
where each run is "<wall s> <peak RSS KiB> <CPU s>" (scripts/lib/bench-import-rounds.sh) and
WORK holds agentprof.json (--no-cache), agentprof-cold.json, agentprof-warm.json, cache/ and
no-cache/ (the directory the --no-cache runs were given, which must stay absent).
"""

import json
import os
import statistics
import sys

# What a cache must not change: every figure a report has per call.
SAME = ["totals", "categories", "models", "sessions", "subagent_types"]


def runs_of(args):
    groups, current = [], []
    for arg in args:
        if arg == "--":
            groups.append(current)
            current = []
        else:
            current.append(tuple(map(float, arg.split())))
    groups.append(current)
    return groups


def median(runs, i):
    return statistics.median(r[i] for r in runs)


def ratio(ours, theirs, better, worse):
    """How `ours` compares with `theirs`, said the right way round (lower is better)."""
    if ours == theirs:
        return "the same"
    if ours < theirs:
        return f"{theirs / ours:.1f}x {better}" if ours else "-"
    return f"{ours / theirs:.2f}x {worse}" if theirs else "-"


def size_of(path):
    total = 0
    for top, _, names in os.walk(path):
        for name in names:
            total += os.path.getsize(os.path.join(top, name))
    return total


def main():
    work, size = sys.argv[1], int(sys.argv[2])
    no_cache, cold, warm, ccusage = runs_of(sys.argv[3:])
    reports = {
        name: json.load(open(os.path.join(work, f"agentprof{suffix}.json")))
        for name, suffix in [("--no-cache", ""), ("cold", "-cold"), ("warm", "-warm")]
    }
    base = reports["--no-cache"]
    differ = [
        f"{name} {key}"
        for name, report in reports.items()
        for key in SAME
        if report.get(key) != base.get(key)
    ]
    untouched = not os.path.exists(os.path.join(work, "no-cache"))
    cache_bytes = size_of(os.path.join(work, "cache"))

    print()
    print("With the history cache ($AGENTPROF_CACHE_DIR; cold: empty before the run, warm: "
          "the cold run's):")
    print()
    print("| | wall time (median) | CPU, user + sys | peak RSS | throughput |")
    print("|---|---|---|---|---|")
    for name, runs in [("agentprof --no-cache", no_cache), ("agentprof cold", cold),
                       ("agentprof warm", warm), ("ccusage", ccusage)]:
        wall = median(runs, 0)
        print(f"| {name} | {wall:.3f} s | {median(runs, 2):.2f} s | "
              f"{median(runs, 1) / 1024:.1f} MiB | {size / wall / 1e9:.2f} GB/s |")
    print()
    if cache_bytes == 0:
        # Only the Claude Code import keeps a cache: a ratio here would be noise read as speed.
        print("This import keeps no history cache (only Claude Code's does): the cold and warm "
              "runs read the whole history as --no-cache does, and their differences are noise.")
        print(f"--no-cache vs ccusage: "
              f"{ratio(median(no_cache, 0), median(ccusage, 0), 'faster', 'slower')}")
    else:
        print_cache_ratios(no_cache, cold, warm, ccusage, cache_bytes, size)
    print(f"--no-cache, cold and warm report the same {', '.join(SAME)}: {not differ}"
          + (f" (differ: {', '.join(differ)})" if differ else ""))
    print(f"--no-cache left its cache directory absent: {untouched}")
    if differ:
        sys.exit(1)


def print_cache_ratios(no_cache, cold, warm, ccusage, cache_bytes, size):
    print(f"warm vs ccusage: {ratio(median(warm, 0), median(ccusage, 0), 'faster', 'slower')}"
          f" (CPU {ratio(median(warm, 2), median(ccusage, 2), 'less', 'more')}, peak RSS "
          f"{ratio(median(warm, 1), median(ccusage, 1), 'less', 'more')})")
    print(f"cold vs --no-cache: "
          f"{ratio(median(cold, 0), median(no_cache, 0), 'faster', 'slower')} (CPU "
          f"{ratio(median(cold, 2), median(no_cache, 2), 'less', 'more')}, peak RSS "
          f"{ratio(median(cold, 1), median(no_cache, 1), 'less', 'more')})")
    print(f"warm vs --no-cache: "
          f"{ratio(median(warm, 0), median(no_cache, 0), 'faster', 'slower')}")
    print(f"cache: {cache_bytes / 1e6:.1f} MB for a {size / 1e6:.0f} MB history")
    print(f"targets: warm >= 20x ccusage's speed: "
          f"{median(ccusage, 0) / median(warm, 0) >= 20}; cold no slower than --no-cache: "
          f"{median(cold, 0) <= median(no_cache, 0)}")


main()
