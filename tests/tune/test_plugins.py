"""A method, a backbone and a dataset (with its neighbour bank) registered in a module outside
the package (a plugin) run through a real smoke sweep with ``--plugin``: the driver, every trial
and every cache task import it. docs/EXTENDING.md walks through the same three."""

import contextlib
import csv
import io
import os
import sys
import textwrap

import pytest
import ray
from mlflow_server import sweep_runs

from sept_ray.backbones.registry import BACKBONES
from sept_ray.config import ConfigError
from sept_ray.data.catalog import DATASETS
from sept_ray.methods.registry import METHODS
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
PLUGIN = '''
"""A toy plugin: one method, one backbone and one dataset registered outside sept_ray."""

from pathlib import Path

from sept_ray.backbones.registry import BACKBONES
from sept_ray.backbones.tiny import load_tiny_alm
from sept_ray.data.catalog import DatasetInfo, add
from sept_ray.methods.coop import CoOp
from sept_ray.methods.registry import METHODS


@METHODS.register("toy-coop")
class ToyCoOp(CoOp):
    """CoOp whose context starts at zero."""

    def init_parameters(self, generator):
        super().init_parameters(generator)
        self.ctx.data.zero_()


@BACKBONES.register("toy-alm")
def build_toy_alm(cfg):
    return load_tiny_alm(cfg.weights or None)


CLASSES = ("alpha", "beta", "delta", "gamma")
BANK = str(Path(__file__).with_name("toy_bank.json"))  # its neighbour bank, beside the module
add(DatasetInfo("ToyTones", "A toy recording of {}.", 1, CLASSES, bank=BANK))
'''


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """``toy_plugin`` importable here and, through PYTHONPATH, in Ray's workers."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", f"{folder}:{os.environ.get('PYTHONPATH', '')}")
    ray.shutdown()  # workers of a Ray started earlier never saw this PYTHONPATH
    yield folder
    ray.shutdown()
    for registry, name in ((METHODS, "toy-coop"), (BACKBONES, "toy-alm"), (DATASETS, "ToyTones")):
        registry._items.pop(name, None)  # this process's registries, as before the test
    sys.modules.pop("toy_plugin", None)


def test_a_plugin_method_backbone_and_dataset_run_through_a_smoke_sweep(
    plugin_path, tmp_path, small_weights
):
    write_tone_dataset(tmp_path / "data", "ToyTones", CLASSES, 4, 2)
    write_bank(plugin_path / "toy_bank.json", ["ToyTones"], CLASSES, per_class=3)
    argv = [
        "--plugin", "toy_plugin", "--methods", "toy-coop", "--backbone", "toy-alm",
        "--data-root", str(tmp_path / "data"), "--datasets", "ToyTones", "--smoke-test",
        "--results", str(tmp_path / "results"), "--num-cpus", "2", "--weights", str(small_weights),
        "--set", "train.batch_size=4", "data.shots=2", "method.n_ctx=2", "backbone.device=cpu",
        "sept.n_neighbors=2",  # sept.bank = builtin: the bank its DatasetInfo names
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = b2n.main(argv)
    assert code == 0, printed.getvalue()
    (table,) = (tmp_path / "results" / "b2n-smoke").glob("*/b2n_table.csv")
    rows = {(r["dataset"], r["method"]) for r in csv.DictReader(table.open())}
    assert rows == {(d, m) for d in ("ToyTones", "AVERAGE") for m in ("toy-coop", "toy-coop+sept")}
    _, parents, children = sweep_runs(
        f"sqlite:///{tmp_path / 'results' / 'mlflow.db'}", "b2n-smoke"
    )
    assert {r.data.tags["sept.backbone"] for r in children} == {"toy-alm"}
    assert parents[0].data.params["plugins"] == "['toy_plugin']"
    (trial,) = (tmp_path / "results" / "b2n-smoke").glob("*/trials/*-toy-coop")
    assert (trial / "prompt.safetensors").is_file()


def test_a_plugin_that_cannot_be_imported_is_named(tmp_path):
    with pytest.raises(ConfigError, match="--plugin no_such_plugin: cannot import it"):
        b2n.main(["--plugin", "no_such_plugin", "--results", str(tmp_path)])
