import subprocess
import sys

# A fresh process: in the test process, memory freed by earlier tests stays resident and is
# reused, so a new allocation need not raise the resident set size at all.
PROBE = """
import time
import numpy as np
from sept_ray.memory import PeakMemory

with PeakMemory(interval=0.005) as quiet:
    pass
with PeakMemory(interval=0.005) as busy:
    block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
    block[::512] += 1.0
    time.sleep(0.1)  # held for many sampling intervals, so a sample must see it
    del block
print(busy.rss_mb - quiet.rss_mb)
"""


def test_peak_sees_a_transient_allocation():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert float(out.strip().splitlines()[-1]) > 150
