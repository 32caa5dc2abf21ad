"""The studies a sweep can be, one file each, registered in :data:`STUDIES`."""

from sept_ray.studies import ablation, b2n, efficiency, search, xd  # noqa: F401  (registers them)
from sept_ray.studies.base import STUDIES, Study

__all__ = ["STUDIES", "Study"]
