"""Peak memory of a block of work in this process: resident memory (sampled) and CUDA memory.

``resource.getrusage`` gives the peak of the whole process, which a reused Ray worker carries over
from earlier trials; this samples the resident set size while the block runs instead.
"""

from __future__ import annotations

import threading

import psutil
import torch


class PeakMemory:
    """Context manager: ``rss_mb`` = peak resident memory (MiB) while inside, sampled every
    ``interval`` s (and at entry and exit); ``cuda_mb`` = peak CUDA memory allocated by torch (MiB)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.rss_mb = 0.0
        self.cuda_mb = 0.0
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        self.rss_mb = max(self.rss_mb, self._process.memory_info().rss / 2**20)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakMemory:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        if torch.cuda.is_available():
            self.cuda_mb = torch.cuda.max_memory_allocated() / 2**20
