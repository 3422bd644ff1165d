#!/usr/bin/env python3
"""Times `ntt bench` and the JAX equivalents alternately, several rounds, and reports per workload
the median of the per-round medians.

Shared machines are noisy in bursts (a busy neighbour can slow every number by 1.5x for a minute).
Alternating the two tools round by round, and taking the median over rounds, keeps one burst from
deciding a comparison. The plain (Jacobian-contraction) JAX workloads take seconds per call and
are timed once. The Conv-4 workloads (seconds per step; JAX only has its structured ones) are
opt-in in both tools and here (--conv4, or --only-conv4 for them alone: the structured JAX Conv-4
step takes minutes per call).

    python3 bench/side_by_side.py --ntt .build/release/ntt --rounds 5 --out docs/results/bench-side-by-side.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


GEMM_GFLOP = {}  # ntt's GEMM work per run of each workload (the same every round)
HANDOFF_US = []  # per ntt run, its thread handoff before and after (µs): the host's phase


def run_json(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"side_by_side.py: {' '.join(command)} failed:\n{done.stderr.strip()}")
    try:
        report = json.loads(done.stdout)
        benchmarks = report["benchmarks"]
        medians = {b["name"]: b["median_ms"] for b in benchmarks}
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        sys.exit(f"side_by_side.py: {' '.join(command)} did not print a benchmark report ({error!r})")
    if report.get("handoff_us") is not None:
        HANDOFF_US.append(report["handoff_us"])
    GEMM_GFLOP.update({b["name"]: b["gemm_gflop"] for b in benchmarks if "gemm_gflop" in b})
    return medians


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ntt", default=".build/release/ntt", help="the ntt binary (default: .build/release/ntt)")
    parser.add_argument("--threads", type=int, default=2, help="ntt --threads (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--out", help="also write the raw per-round medians and the summary as JSON here")
    parser.add_argument("--conv4", action="store_true",
                        help="also time the Conv-4 workloads (ntk/conv4, ntt-step/conv4) every round")
    parser.add_argument("--only-conv4", action="store_true",
                        help="time only the Conv-4 workloads (no plain JAX run: it has none for Conv-4)")
    args = parser.parse_args(argv)
    if not os.access(args.ntt, os.X_OK):
        parser.error(f"--ntt {args.ntt!r} is not an executable; build with `swift build -c release` first")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            parser.error(f"--out {args.out!r}: {folder} is not a writable folder")

    jax_script = [sys.executable, os.path.join(HERE, "jax_reference.py"), "--json"]
    ntt_bench = [args.ntt, "bench", "--json", "--threads", str(args.threads)]
    ntt_rounds, jax_rounds = [], []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        ntt, jax = {}, {}
        if not args.only_conv4:
            ntt = run_json(ntt_bench)
            jax = run_json(jax_script + ["--only", "train-step"])
            jax.update(run_json(jax_script + ["--only=-structured/lenet"]))
        if args.conv4 or args.only_conv4:
            ntt.update(run_json(ntt_bench + ["--filter", "conv4"]))
            jax.update(run_json(jax_script + ["--only=-structured/conv4"]))
        ntt_rounds.append(ntt)
        jax_rounds.append(jax)
        write_report(args, ntt_rounds, jax_rounds, plain=None)  # a killed sitting keeps its rounds
    plain = {}
    if not args.only_conv4:
        print("plain JAX NTK workloads (once)", file=sys.stderr, flush=True)
        plain = run_json(jax_script + ["--only", "ntk/"])
        plain.update(run_json(jax_script + ["--only", "ntt-step/"]))
    summary = write_report(args, ntt_rounds, jax_rounds, plain)
    print(f"{'workload':34} {'ntt ms':>9} {'(range)':>17} {'JAX ms':>9} {'JAX structured':>15}")
    for s in summary:
        lo, hi = s["ntt_range_ms"]
        jax = "" if s["jax_ms"] is None else f"{s['jax_ms']:9.3f}"
        structured = "" if s["jax_structured_ms"] is None else f"{s['jax_structured_ms']:15.3f}"
        print(f"{s['name']:34} {s['ntt_ms']:9.3f} {f'({lo:.3f}–{hi:.3f})':>17} {jax:>9} {structured:>15}")


def write_report(args, ntt_rounds, jax_rounds, plain):
    """The summary so far; written to --out (atomically) after every round and at the end.
    `plain` is None until the plain JAX workloads have run."""
    def median(rounds, name):
        values = [r[name] for r in rounds if name in r]
        return round(statistics.median(values), 3) if values else None

    summary = []
    for name in ntt_rounds[0]:
        kind, model = name.split("/", 1)
        summary.append({
            "name": name,
            "ntt_ms": median(ntt_rounds, name),
            "ntt_range_ms": [min(r[name] for r in ntt_rounds), max(r[name] for r in ntt_rounds)],
            "jax_ms": median(jax_rounds, name) if kind == "train-step" else (plain or {}).get(name),
            "jax_structured_ms": median(jax_rounds, f"{kind}-structured/{model}"),
            "ntt_gemm_gflop": GEMM_GFLOP.get(name),
        })
    report = {"rounds": len(ntt_rounds), "rounds_planned": args.rounds, "threads": args.threads,
              "complete": plain is not None, "summary": summary,
              "ntt_rounds": ntt_rounds, "jax_rounds": jax_rounds, "jax_plain_once": plain or {},
              "ntt_handoff_us": HANDOFF_US}
    if args.out:
        partial = args.out + ".partial"
        with open(partial, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(partial, args.out)
    return summary


if __name__ == "__main__":
    main()
