#!/usr/bin/env python3
"""A/B of two ntt builds: `ntt bench --json` of each, alternately, several rounds.

For a change that must not alter results but should save time, on a shared machine whose noise
comes in bursts: alternating the builds round by round keeps one burst from deciding the
comparison. Per workload it reports the median over rounds of each build's per-round medians, and
the fastest single run of each build (noise only ever adds time, so the best runs of a
deterministic workload are the steadier comparison when the machine is busy), with the ratios
A/B (above 1: B is faster). Peak memory per build too.

    python3 bench/ab.py OLD_NTT NEW_NTT --filter lenet --threads 2 --rounds 5 --out ab.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def bench(binary, args):
    command = [binary, "bench", "--json", "--threads", str(args.threads)]
    if args.filter:
        command += ["--filter", args.filter]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"ab.py: {' '.join(command)} failed:\n{done.stderr.strip()}")
    try:
        report = json.loads(done.stdout)
        return report["benchmarks"], report.get("peak_memory_mb"), report.get("handoff_us")
    except (json.JSONDecodeError, KeyError) as error:
        sys.exit(f"ab.py: {binary} bench --json did not print a benchmark report ({error})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="the first ntt binary (e.g. the build before the change)")
    parser.add_argument("b", help="the second ntt binary")
    parser.add_argument("--filter", help="ntt bench --filter (default: every default workload)")
    parser.add_argument("--threads", type=int, default=2, help="ntt --threads (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--out", help="also write every round's numbers and the summary as JSON here")
    args = parser.parse_args(argv)
    for name, binary in (("A", args.a), ("B", args.b)):
        if not os.access(binary, os.X_OK):
            parser.error(f"{name} {binary!r} is not an executable")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            parser.error(f"--out {args.out!r}: {folder} is not a writable folder")

    rounds = {"A": [], "B": []}
    memory = {"A": [], "B": []}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for name, binary in (("A", args.a), ("B", args.b)):
            results, peak, handoff = bench(binary, args)
            rounds[name].append({x["name"]: (x["median_ms"], x["min_ms"]) for x in results})
            memory[name].append(peak)
            if handoff:  # the host's phase during this run (docs/where-time-goes.md)
                print(f"  {name}: handoff between threads {' → '.join(f'{h:.2f}' for h in handoff)} µs",
                      file=sys.stderr, flush=True)
    names = [n for n in rounds["A"][0] if all(n in r for side in rounds.values() for r in side)]
    if not names:
        sys.exit("ab.py: the two builds have no workload in common for this filter")
    summary = []
    for n in names:
        row = {"name": n}
        for side in ("A", "B"):
            row[f"{side}_median_ms"] = statistics.median(r[n][0] for r in rounds[side])
            row[f"{side}_best_ms"] = min(r[n][1] for r in rounds[side])
            row[f"{side}_round_medians_ms"] = [r[n][0] for r in rounds[side]]
        row["median_ratio"] = row["A_median_ms"] / row["B_median_ms"]
        row["best_ratio"] = row["A_best_ms"] / row["B_best_ms"]
        summary.append(row)

    print(f"{'workload':32s} {'A median':>10s} {'B median':>10s} {'A/B':>5s}   {'A best':>10s} {'B best':>10s} {'A/B':>5s}")
    for row in summary:
        print(f"{row['name']:32s} {row['A_median_ms']:10.3f} {row['B_median_ms']:10.3f} {row['median_ratio']:5.2f}"
              f"   {row['A_best_ms']:10.3f} {row['B_best_ms']:10.3f} {row['best_ratio']:5.2f}")
    peaks = {side: max((m for m in memory[side] if m is not None), default=None) for side in memory}
    print(f"peak memory: A {peaks['A']} MB, B {peaks['B']} MB")
    if args.out:
        report = {"a": args.a, "b": args.b, "filter": args.filter, "threads": args.threads,
                  "rounds": args.rounds, "peak_memory_mb": peaks, "summary": summary}
        temporary = args.out + ".partial"
        try:
            with open(temporary, "w") as f:
                json.dump(report, f, indent=1)
            os.replace(temporary, args.out)
        except OSError as error:
            sys.exit(f"ab.py: cannot write --out {args.out}: {error.strerror}")


if __name__ == "__main__":
    main()
