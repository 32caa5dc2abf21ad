"""Two sweeps of one experiment started in the same second get a run folder each."""

from concurrent.futures import ThreadPoolExecutor

from sept_ray.tune.session import reserve_run_dir


def test_a_taken_run_folder_name_gets_a_suffix(tmp_path):
    wanted = tmp_path / "b2n" / "20261127-010203"
    assert reserve_run_dir(wanted) == wanted and wanted.is_dir()
    assert reserve_run_dir(wanted) == wanted.with_name("20261127-010203-2")
    assert reserve_run_dir(wanted) == wanted.with_name("20261127-010203-3")


def test_racing_sweeps_never_share_a_folder(tmp_path):
    wanted = tmp_path / "b2n" / "20261127-010203"
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: reserve_run_dir(wanted), range(16)))
    assert len(set(got)) == 16 and all(p.is_dir() for p in got)
