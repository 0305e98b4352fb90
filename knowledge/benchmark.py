"""Benchmark: ingest time, re-ingest time, warm latencies, cold start, peak RSS.

Runs against a fresh index in a temporary data directory so the real index is untouched.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.config import KnowledgeConfig
from knowledge.knowledge_base import KnowledgeBase


@dataclass(frozen=True)
class BenchResult:
    """Measured figures (seconds / milliseconds / megabytes)."""

    ingest_s: float
    reingest_s: float
    passages: int
    retrieval_p50_ms: float
    retrieval_p95_ms: float
    ask_p50_ms: float
    ask_p95_ms: float
    cold_start_s: float
    peak_rss_mb: float
    """This process: model, fresh ingest, the latency loops."""
    serving_rss_mb: float
    """The cold-start process: open, load, answer one question (what a chat process needs)."""

    def format(self) -> str:
        return "\n".join(
            [
                f"full ingest (fresh index)    {self.ingest_s:8.1f} s   ({self.passages} passages)  target <= 90 s",
                f"re-ingest (no change)        {self.reingest_s:8.2f} s                     target <= 5 s",
                f"retrieval p50 / p95          {self.retrieval_p50_ms:6.1f} / {self.retrieval_p95_ms:6.1f} ms"
                "        target p95 <= 150 ms",
                f"ask p50 / p95                {self.ask_p50_ms:6.1f} / {self.ask_p95_ms:6.1f} ms"
                "        target p95 <= 300 ms",
                f"cold start to first answer   {self.cold_start_s:8.1f} s",
                f"peak RSS (ingest + queries)  {self.peak_rss_mb:8.0f} MB                    target <= 1536 MB",
                f"peak RSS (cold-start answer) {self.serving_rss_mb:8.0f} MB",
            ]
        )


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


_COLD = """
import json, sys, time
start = float(sys.argv[2])
from pathlib import Path
from knowledge import KnowledgeBase, KnowledgeConfig
raw = json.loads(sys.argv[1])
raw = {k: (Path(v) if k in ("docs_dir", "chroma_path", "corpus_catalog", "bundled_model_dir")
           and v is not None else v) for k, v in raw.items()}
answer = KnowledgeBase(KnowledgeConfig(**raw)).answer(sys.argv[3])
seconds = time.time() - start
# VmHWM belongs to this program's own address space (ru_maxrss would include the
# parent's pages inherited through fork).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "answered": answer.answered, "rss_mb": hwm / 1024}))
"""


def run_benchmark(
    config: KnowledgeConfig, questions: Sequence[str], *, rounds: int = 2
) -> BenchResult:
    """Measure everything on a fresh copy of the index built from ``config.docs_dir``."""
    with tempfile.TemporaryDirectory(prefix="soudan-bench-") as tmp:
        fresh = dataclasses.replace(config, chroma_path=Path(tmp) / "chroma", chroma_url=None)
        kb = KnowledgeBase(fresh)
        kb.embedder.embed_query("warm-up")  # model load is part of cold start, not ingest
        started = time.perf_counter()
        report = kb.ingest(progress=False)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        kb.ingest(progress=False)
        reingest_s = time.perf_counter() - started

        kb.answer(questions[0])  # warm
        retrieval, asks = [], []
        for _ in range(rounds):
            for question in questions:
                t0 = time.perf_counter()
                kb.search(question, top_k=5)
                retrieval.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                kb.answer(question)
                asks.append((time.perf_counter() - t0) * 1000)

        raw = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(fresh).items()
        }
        started_at = time.time()
        output = subprocess.run(
            [sys.executable, "-c", _COLD, json.dumps(raw), str(started_at), questions[0]],
            capture_output=True,
            text=True,
            check=True,
        )
        cold_run = json.loads(output.stdout.strip().splitlines()[-1])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return BenchResult(
        ingest_s=ingest_s,
        reingest_s=reingest_s,
        passages=report.passages,
        retrieval_p50_ms=statistics.median(retrieval),
        retrieval_p95_ms=_percentile(retrieval, 0.95),
        ask_p50_ms=statistics.median(asks),
        ask_p95_ms=_percentile(asks, 0.95),
        cold_start_s=float(cold_run["seconds"]),
        peak_rss_mb=own,
        serving_rss_mb=float(cold_run["rss_mb"]),
    )
