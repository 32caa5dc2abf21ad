"""The b2n, xd and val tasks: which classes a trial trains on and which clips it scores."""

from dataclasses import replace

import pytest

from sept_ray.config import ConfigError, TrialConfig
from sept_ray.data.manifest import load_split
from sept_ray.protocols import (
    PROTOCOLS,
    Protocol,
    build_task,
    hold_out,
    protocol_of,
    pseudo_split,
)

from conftest import write_tone_dataset

EIGHT = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]


def cfg(root, **sections):
    values = {"data": {"name": "Eight", "root": str(root), "shots": 3}}
    values.update(sections)
    return TrialConfig.from_dict(values)


@pytest.fixture
def root(tmp_path):
    write_tone_dataset(tmp_path, "Eight", EIGHT, 8, 2, seconds=0.1)
    write_tone_dataset(tmp_path, "Tones", ["alpha", "beta", "delta", "gamma"], 4, 2, seconds=0.1)
    return tmp_path


def test_b2n_trains_on_base_and_scores_base_and_new_test_clips(root):
    task = build_task(cfg(root))
    split = load_split(root, "Eight", 1)
    assert task.train_classes == ("a1", "a2", "a3", "a4")
    assert task.seen.classes == task.train_classes and task.unseen.classes == (
        "b1",
        "b2",
        "b3",
        "b4",
    )
    assert set(task.seen.clips) | set(task.unseen.clips) == set(split.test)
    assert len(task.shots) == 4 * 3 and {c.classname for c in task.shots} == set(task.train_classes)


def test_xd_trains_on_every_source_class_and_scores_the_target(root):
    task = build_task(cfg(root, protocol={"name": "xd", "target": "Tones"}))
    assert (
        task.train_classes == tuple(EIGHT) and task.seen.clips == load_split(root, "Eight", 1).test
    )
    assert task.unseen.dataset == "Tones" and task.unseen.classes == (
        "alpha",
        "beta",
        "delta",
        "gamma",
    )
    assert task.unseen.template == "This is a sound of {}." and not task.unseen.seen
    with pytest.raises(ConfigError, match="must differ"):
        build_task(cfg(root, protocol={"name": "xd", "target": "Eight"}))
    with pytest.raises(ConfigError, match="xd needs a target"):
        cfg(root, protocol={"name": "xd"})


def test_val_reads_only_training_clips_of_the_base_classes(root):
    task = build_task(cfg(root, protocol={"name": "val", "val_fraction": 0.25}))
    split = load_split(root, "Eight", 1)
    assert task.train_classes == ("a1", "a2") and task.unseen.classes == ("a3", "a4")
    assert not task.clips_read() & {c.path for c in split.test}
    assert task.clips_read() <= {c.path for c in split.train}
    held = {c.path for c in task.seen.clips}
    assert len(held) == 2 * 2  # ceil(0.25 * 8) held out per pseudo-base class
    assert not held & {c.path for c in task.shots}
    assert len(task.unseen.clips) == 2 * 8  # every training clip of the pseudo-new classes
    assert build_task(cfg(root, protocol={"name": "val"})).seen.clips == task.seen.clips  # seeded


@pytest.mark.parametrize("partitions", [3, 4])
def test_val_partitions_make_every_base_class_pseudo_new_and_read_no_test_clip(root, partitions):
    split = load_split(root, "Eight", 1)
    pseudo_new = set()
    for partition in range(partitions):
        protocol = {"name": "val", "val_partition": partition, "val_partitions": partitions}
        task = build_task(cfg(root, protocol=protocol))
        assert not task.clips_read() & {c.path for c in split.test}
        assert task.clips_read() <= {c.path for c in split.train}
        assert set(task.train_classes) | set(task.unseen.classes) == {"a1", "a2", "a3", "a4"}
        assert len(task.train_classes) == 2 and not set(task.train_classes) & set(
            task.unseen.classes
        )
        pseudo_new |= set(task.unseen.classes)
    assert pseudo_new == {"a1", "a2", "a3", "a4"}  # every base class is pseudo-new in one


def test_partition_zero_is_the_unrotated_split_and_coverage_holds_for_any_size():
    base = tuple(f"c{i:02d}" for i in range(7))
    assert pseudo_split(base, 0, 3) == (base[:4], base[4:])
    for k in range(4, 30):
        classes = tuple(f"c{i:02d}" for i in range(k))
        for partitions in (3, 4, 5):
            covered = set().union(
                *(pseudo_split(classes, r, partitions)[1] for r in range(partitions))
            )
            assert covered == set(classes), (k, partitions)


def test_a_partition_outside_the_count_is_refused(root):
    with pytest.raises(ConfigError, match="protocol.val_partition = 3: must be in \\[0, 2\\]"):
        cfg(root, protocol={"name": "val", "val_partition": 3, "val_partitions": 3})


def test_val_refuses_a_dataset_with_too_few_base_classes(root):
    with pytest.raises(
        ConfigError, match="'Tones': 2 base classes, the validation split needs at least 4"
    ):
        build_task(cfg(root, data={"name": "Tones", "root": str(root)}, protocol={"name": "val"}))


def test_hold_out_needs_two_clips_per_class(root):
    clips = load_split(root, "Eight", 1).train
    one = (
        tuple(c for c in clips if c.classname != "a1")
        + tuple(c for c in clips if c.classname == "a1")[:1]
    )
    with pytest.raises(ConfigError, match="class 'a1' has 1 training clip"):
        hold_out(one, ("a1", "a2"), 0.25, 0, "Eight")


def test_protocols_are_registered_objects_that_answer_for_their_targets_and_cells(root):
    assert PROTOCOLS.names() == ["b2n", "val", "xd"]
    xd = cfg(root, protocol={"name": "xd", "target": "Tones"})
    assert protocol_of(xd).targets(xd) == ("Tones",)
    assert protocol_of(xd).table_cell("Eight", "Tones") == "Eight->Tones"
    b2n = cfg(root)
    assert (
        protocol_of(b2n).targets(b2n) == () and protocol_of(b2n).table_cell("Eight", "") == "Eight"
    )


def test_a_registered_protocol_is_accepted_by_the_config_and_builds_its_task(root):
    def swapped(config, split, template):  # b2n with the roles of base and new swapped
        task = PROTOCOLS.get("b2n").build(config, split, template)
        return replace(task, protocol="swapped", seen=task.unseen, unseen=task.seen)

    PROTOCOLS.register("swapped")(Protocol("swapped", swapped))
    try:
        task = build_task(cfg(root, protocol={"name": "swapped"}))
        assert task.protocol == "swapped" and task.seen.classes == ("b1", "b2", "b3", "b4")
    finally:
        PROTOCOLS._items.pop("swapped")
    with pytest.raises(ConfigError, match=r"protocol.name = 'swapped': must be one of \('b2n'"):
        cfg(root, protocol={"name": "swapped"})
