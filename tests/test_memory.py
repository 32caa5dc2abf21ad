import numpy as np

from sept_ray.memory import PeakMemory


def test_peak_sees_a_transient_allocation():
    with PeakMemory(interval=0.005) as quiet:
        pass
    with PeakMemory(interval=0.005) as busy:
        block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
        block[::512] += 1.0
        del block
    assert busy.rss_mb - quiet.rss_mb > 150
