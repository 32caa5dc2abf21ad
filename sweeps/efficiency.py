"""The efficiency sweep: ``python sweeps/efficiency.py --help``. The study (its options, trials, tables) is
:mod:`sept_ray.studies.efficiency`; this file only names it, so ``ray submit`` can copy it alone."""

from functools import partial

from sept_ray.studies.script import run_script, study_main, study_parser_of

build_parser = partial(study_parser_of, "efficiency")
main = partial(study_main, "efficiency")

if __name__ == "__main__":
    run_script("efficiency")
