#!/usr/bin/env python
"""Benchmark loading and tokenizing the full corpus, side by side with the native ``mecab`` command.

    python scripts/benchmark.py [--data PATH] [--workers N] [--json FILE] [--naive-sample N] [--run-all]

Each measurement runs in a fresh Python process with its own empty cache folder, so "cold" means cold;
loads are repeated (``--repeat``, default 3) and the median is reported, since single runs on a shared
virtual machine vary by a factor of two.
Native MeCab (Debian package ``mecab``) runs on one core over the same texts (one utterance per line)
with the same unidic-lite dictionary and its default full output; the ratio is ours / native.
Peak memory is the largest resident set of any process of the run (children included).
``--run-all`` also times ``./run_all.sh`` end to end: once cold (filling a fresh cache), then warm.
``--finetune-preprocessing SUBSET`` measures only ``finetune``'s data preparation for SUBSET (llm
extra; the smoke model's tokenizer, nothing downloaded): the cached turn-layout export and the
streamed, length-fitted dataset, cold and then warm (a resume), with the peak memory of it all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {  # what the project promises (README), on 2 cores
    "cold load (s)": 1.5,
    "warm load (s)": 0.5,
    "tokenize cold / native mecab": 1.0,
    "warm token load (s)": 1.0,
    "peak memory (GB)": 4.0,
    "warm run_all.sh (s)": 60.0,
}

FINETUNE_PEAK_GB = 4.0
"""The promise for ``finetune --subset full``'s data preparation (README)."""

CHILD = r"""
import json, sys, time
started = time.perf_counter()
from kokoro_analysis import load_corpus
from kokoro_analysis.text.mecab import tokenize_corpus
imported = time.perf_counter()
step, data, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
if step in ("cold_load", "warm_load"):
    corpus = load_corpus(data, cache=(step == "warm_load"))
    result = {"n": len(corpus.utterances)}
else:
    corpus = load_corpus(data)
    loaded = time.perf_counter()
    tokens = tokenize_corpus(corpus, workers=workers, progress=False)
    imported = loaded
    result = {"n": len(tokens)}
result["seconds"] = time.perf_counter() - imported
result["import_seconds"] = imported - started
print(json.dumps(result))
"""

NAIVE = r"""
import sys, time, unidic_lite, fugashi
texts = open(sys.argv[1], encoding="utf-8").read().splitlines()
tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}" -r /dev/null')
started = time.perf_counter()
n = 0
for text in texts:
    for word in tagger(text):
        surface, lemma, pos = word.surface, word.feature.lemma, word.feature.pos1
        n += 1
print(time.perf_counter() - started, n)
"""


FINETUNE_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from kokoro_analysis import load_corpus
from kokoro_analysis.finetune.models import build_smoke_model, load_tokenizer
from kokoro_analysis.finetune.training import Recipe, training_dataset, training_export
data, subset, scratch = sys.argv[1], sys.argv[2], Path(sys.argv[3])
limit = int(sys.argv[4]) if sys.argv[4] != "all" else None
smoke = str(build_smoke_model(scratch / "smoke"))
started = time.perf_counter()
corpus = load_corpus(data)
recipe = Recipe(base_model=smoke, subset=subset, limit=limit)
tokenizer = load_tokenizer(smoke, padding_side="right")
export = training_export(corpus, recipe, scratch / "export", write=True)
exported = time.perf_counter()
dataset, counts = training_dataset(export, recipe, tokenizer)
fitted = time.perf_counter()
training_dataset(export, recipe, tokenizer)
warm = time.perf_counter()
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
export_lines = json.loads((export / "manifest.json").read_text())["files"]["train.jsonl"]["lines"]
tokenized = counts["examples"] + counts["dropped_too_long"]
print(json.dumps({
    f"finetune {subset}: load + export of {export_lines:,} examples (s)": exported - started,
    f"finetune {subset}: fit + tokenize {tokenized:,} examples, cold (s)": fitted - exported,
    f"finetune {subset}: fit + tokenize, examples per s": tokenized / (fitted - exported),
    f"finetune {subset}: the same dataset, warm (s)": warm - fitted,
    f"finetune {subset}: examples trained": counts["examples"],
    f"finetune {subset}: examples cut": counts["cut"],
    f"finetune {subset}: peak memory (GB)": peak / 1024 / 1024,
}))
"""


def finetune_preprocessing(
    data: str, subset: str, scratch: Path, limit: int | None = None
) -> dict[str, float]:
    """Peak memory and time of ``finetune --subset SUBSET``'s data preparation (fresh cache): the
    whole export, then all examples or a seeded sample of ``limit`` fitted and tokenized."""
    env = {**os.environ, "KOKORO_ANALYSIS_CACHE": str(scratch / "cache"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", FINETUNE_CHILD, data, subset, str(scratch), str(limit or "all")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(step: str, data: str, workers: int, cache: Path) -> dict:
    env = {**os.environ, "KOKORO_ANALYSIS_CACHE": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, data, str(workers)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_seconds(step: str, data: str, workers: int, cache: Path, repeat: int) -> dict:
    """Run ``step`` ``repeat`` times in fresh processes; the median seconds (and the last result)."""
    runs = [run_child(step, data, workers, cache) for _ in range(repeat)]
    seconds = sorted(run["seconds"] for run in runs)
    return {**runs[-1], "seconds": seconds[len(seconds) // 2]}


def native_mecab_seconds(texts_file: Path) -> float | None:
    """Time the native mecab command over the file on one core (None when it is not installed)."""
    if shutil.which("mecab") is None:
        return None
    import unidic_lite

    command = ["mecab", "-r", os.path.join(unidic_lite.DICDIR, "mecabrc"), "-d", unidic_lite.DICDIR]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    with open(texts_file, "rb") as source:
        started = time.perf_counter()
        subprocess.run(command, stdin=source, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - started


def run_all_seconds(data: str, cache: Path, out: Path, jobs: int | None) -> dict[str, float]:
    """``./run_all.sh`` on ``data`` twice with one cache folder: the first run warms the caches, the
    second is the measured *warm* run (wall time, plus each notebook's seconds from its logs)."""
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "KOKORO_ANALYSIS_CACHE": str(cache),
        "VIRTUAL_ENV": sys.prefix,
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
    }
    command = [str(root / "run_all.sh"), "--data", data, "--output-dir", str(out)]
    if jobs:
        command += ["-j", str(jobs)]
    results = {}
    for label in ("cold", "warm"):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        results[f"{label} run_all.sh (s)"] = time.perf_counter() - started
        if "failed notebook(s)" in done.stderr:
            raise SystemExit(f"run_all.sh failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    for status in sorted((out / "logs").glob("*.status")):
        results[f"  {status.stem} (s)"] = float(status.read_text().split()[1])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("KOKOROCHAT_DATA"), help="KokoroChat data")
    parser.add_argument(
        "--workers", type=int, default=None, help="tokenizer processes (default: all cores)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per load measurement (median reported)"
    )
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=60000,
        help="utterances for the plain fugashi loop (extrapolated; 0 to skip)",
    )
    parser.add_argument(
        "--run-all",
        action="store_true",
        help="also time ./run_all.sh on the data: a cold run, then the measured warm run (minutes)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="run_all.sh -j (default: run_all.sh's, the cores)"
    )
    parser.add_argument(
        "--finetune-preprocessing",
        metavar="SUBSET",
        choices=["low", "high", "full"],
        default=None,
        help="measure only finetune's data preparation for SUBSET (llm extra; minutes for full)",
    )
    parser.add_argument(
        "--finetune-limit",
        type=int,
        default=None,
        metavar="N",
        help="with --finetune-preprocessing: tokenize a seeded sample of N examples (the export "
        "stays whole) and report the rate (default: all)",
    )
    args = parser.parse_args()
    if not args.data:
        parser.error("give --data or set KOKOROCHAT_DATA")
    if args.finetune_preprocessing:
        with tempfile.TemporaryDirectory() as scratch:
            results = finetune_preprocessing(
                args.data, args.finetune_preprocessing, Path(scratch), args.finetune_limit
            )
        report(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
        peak = results[f"finetune {args.finetune_preprocessing}: peak memory (GB)"]
        return 0 if peak <= FINETUNE_PEAK_GB else 1
    from kokoro_analysis import load_corpus
    from kokoro_analysis.text.mecab import tokenizer_identity
    from kokoro_analysis.workers import available_cores

    workers = args.workers or available_cores()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        cache = scratch / "cache"
        print(
            f"cores: {available_cores()}, tokenizer workers: {workers}; tokenizer: {tokenizer_identity()}"
        )
        cold = median_seconds("cold_load", args.data, workers, cache, args.repeat)
        results["cold load (s)"] = cold["seconds"]
        run_child("warm_load", args.data, workers, cache)  # writes the load cache
        results["warm load (s)"] = median_seconds(
            "warm_load", args.data, workers, cache, args.repeat
        )["seconds"]
        results["import kokoro_analysis (s)"] = cold["import_seconds"]
        tokenized = run_child("tokenize", args.data, workers, cache)
        results["tokenize cold (s)"] = tokenized["seconds"]
        results["tokens"] = tokenized["n"]
        results["warm token load (s)"] = median_seconds(
            "tokenize", args.data, workers, cache, args.repeat
        )["seconds"]

        texts = load_corpus(args.data).utterances["text"].tolist()
        texts_file = scratch / "utterances.txt"
        texts_file.write_text("\n".join(texts) + "\n", encoding="utf-8")
        native = native_mecab_seconds(texts_file)
        if native is not None:
            results["native mecab, 1 core (s)"] = native
            results["tokenize cold / native mecab"] = results["tokenize cold (s)"] / native
        if args.naive_sample:
            sample = scratch / "sample.txt"
            sample.write_text("\n".join(texts[: args.naive_sample]) + "\n", encoding="utf-8")
            out = subprocess.run(
                [sys.executable, "-c", NAIVE, str(sample)],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = float(out.stdout.split()[0]) * len(texts) / min(len(texts), args.naive_sample)
            results["plain fugashi loop, 1 core, extrapolated (s)"] = seconds
            if native is not None:
                results["plain fugashi loop / native mecab"] = seconds / native
        if args.run_all:
            results.update(
                run_all_seconds(args.data, scratch / "run-cache", scratch / "run", args.jobs)
            )
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )
    results["peak memory (GB)"] = peak_kb / 1024 / 1024
    report(results)
    if native is None:
        print(
            "native mecab not found: install it (Debian/Ubuntu: apt-get install mecab) for the ratio"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(results.get(k, 0) <= v for k, v in TARGETS.items()) else 1


def report(results: dict[str, float]) -> None:
    print(f"\n{'measurement':48} {'value':>10}  target")
    for name, value in results.items():
        target = TARGETS.get(name)
        mark = (
            "" if target is None else (f"≤ {target:g} " + ("ok" if value <= target else "MISSED"))
        )
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.2f}"
        print(f"{name:48} {shown:>10}  {mark}")


if __name__ == "__main__":
    sys.exit(main())
