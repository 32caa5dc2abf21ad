"""Class names and their SEPT neighbours as text features, for maps such as the report's t-SNE.

After training, a trial embeds every class of its dataset and each class's first N bank phrases
twice: through its learned prompt (the learner's ``encode`` with no audio; for CoCoOp that is the
context without the meta-net shift) and through the hand template alone (zero-shot). The arrays
land in the trial's ``text_embeddings.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from sept_ray.methods.base import PromptLearner
from sept_ray.sept.bank import NeighbourBank

TEXT_MAP_FILE = "text_embeddings.npz"


@torch.no_grad()
def text_map(
    learner: PromptLearner,
    classes: Sequence[str],
    train_classes: Sequence[str],
    template: str,
    bank: NeighbourBank | None,
    dataset: str,
    n_neighbors: int,
) -> dict[str, np.ndarray]:
    """Arrays for ``text_embeddings.npz`` (D = the joint width; M = number of phrases):

    ``classes`` [C] str, ``trained`` [C] bool (a training class), ``class_learned`` and
    ``class_zeroshot`` [C, D], ``phrases`` [M] str, ``phrase_owner`` [M] int (index into classes),
    ``phrase_learned`` and ``phrase_zeroshot`` [M, D]; all features L2-normalised. A class the
    bank lacks (or a bank without the dataset) has no phrases; ``bank`` None: none at all.
    """
    phrases: list[str] = []
    owners: list[int] = []
    if bank is not None and dataset in bank.datasets:
        for index, name in enumerate(classes):
            found = bank.datasets[dataset].get(name, [])[:n_neighbors]
            phrases += list(found)
            owners += [index] * len(found)
    saved, learner.template = learner.template, template
    try:
        class_learned = learner.encode(learner.prompts(list(classes)))
        phrase_learned = (
            learner.encode(learner.prompts(phrases, owners=[classes[i] for i in owners]))
            if phrases
            else class_learned[:0]
        )
    finally:
        learner.template = saved
    backbone = learner.backbone
    zeroshot = backbone.encode_text([template.format(c) for c in [*classes, *phrases]])
    return {
        "classes": np.array(list(classes), dtype=str),
        "trained": np.array([c in set(train_classes) for c in classes], dtype=bool),
        "class_learned": class_learned.float().cpu().numpy(),
        "class_zeroshot": zeroshot[: len(classes)].float().cpu().numpy(),
        "phrases": np.array(phrases, dtype=str),
        "phrase_owner": np.array(owners, dtype=np.int64),
        "phrase_learned": phrase_learned.float().cpu().numpy(),
        "phrase_zeroshot": zeroshot[len(classes) :].float().cpu().numpy(),
    }
