"""The b2n sweep: ``python sweeps/b2n.py --help``. The study (its options, trials, tables) is
:mod:`sept_ray.studies.b2n`; this file only names it, so ``ray submit`` can copy it alone."""

from functools import partial

from sept_ray.studies.script import run_script, study_main, study_parser_of

build_parser = partial(study_parser_of, "b2n")
main = partial(study_main, "b2n")

if __name__ == "__main__":
    run_script("b2n")
