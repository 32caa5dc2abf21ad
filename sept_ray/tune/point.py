"""What each Ray Tune trial of a sweep carries: its :class:`TrialPoint` (the trial config's
``point``). A grid sweep has one point per trial (``tune.grid_search`` over them); a search has
one point that every sample shares, with the searcher's sampled settings beside it in the
config as dotted keys (``{"point": ..., "sept.lam": 0.3}``).

Tune holds the point as a plain mapping (:meth:`TrialPoint.to_config`): Tune's saved experiment
state does not bring a dataclass back as one when a sweep is resumed. Code reads it through
:func:`point_of`, typed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

POINT = "point"  # the key of a Tune trial config that holds its TrialPoint


@dataclass(frozen=True)
class TrialPoint:
    """A trial's name, table row, resolved config (:meth:`TrialConfig.to_dict`), checkpoint
    interval (epochs; 0: never), the plugin modules its worker imports, and for a search
    (``sampled``) the datasets each sample runs on the val protocol, each on ``partitions``
    partitions of its base classes and with each training seed of ``seeds`` (empty: the
    trial's own seed)."""

    name: str
    label: str
    trial: dict[str, Any]
    checkpoint_every: int = 1
    plugins: tuple[str, ...] = ()
    sampled: bool = False
    datasets: tuple[str, ...] = ()
    partitions: int = 1
    seeds: tuple[int, ...] = ()

    def to_config(self) -> dict[str, Any]:
        """The mapping a Tune trial config holds."""
        return asdict(self)

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> TrialPoint:
        """The point of a mapping :meth:`to_config` made."""
        values = dict(values)
        values["plugins"] = tuple(values.get("plugins", ()))
        values["datasets"] = tuple(values.get("datasets", ()))
        values["seeds"] = tuple(values.get("seeds", ()))
        return cls(**values)

    @property
    def epochs(self) -> int:
        """Training epochs per dataset."""
        return int(self.trial["train"]["epochs"])

    @property
    def steps(self) -> int:
        """The last ``epoch`` the trial reports before its final report: a grid trial's epochs;
        a search sample's step counts on over its trainings (datasets x partitions x seeds),
        each its epochs and its evaluation before training."""
        if not self.sampled:
            return self.epochs
        trainings = len(self.datasets) * self.partitions * max(1, len(self.seeds))
        return trainings * (self.epochs + 1)

    @property
    def output_dir(self) -> str:
        """The trial's folder (a search: the folder of its samples' folders)."""
        return str(self.trial["output_dir"])


def point_of(config: dict[str, Any]) -> TrialPoint:
    """The point of a Tune trial's ``config``."""
    return TrialPoint.from_config(config[POINT])


def sampled_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The searcher's dotted settings beside the point (empty for a grid trial)."""
    return {key: value for key, value in config.items() if key != POINT}
