"""The paper's t-SNE figure: classes and their SEPT neighbours in the text embedding space.

One panel per prompt (zero-shot, then each trained variant such as CoOp and CoOp+SEPT), each a
t-SNE (scikit-learn, seeded) of one trial's ``text_embeddings.npz``: every class (a large marker,
labelled) and its bank phrases (small markers of the class's colour). Each panel's title gives
the mean cosine of a class to its own neighbours and to other classes' neighbours, computed in
the full embedding space (the geometry SEPT's loss acts on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from sept_ray.report.plots import plt


@dataclass(frozen=True)
class TextMap:
    """Classes [C] and phrases [M] with features (rows L2-normalised) and owners [M]."""

    title: str
    classes: Sequence[str]
    class_features: np.ndarray  # [C, D]
    phrase_features: np.ndarray  # [M, D]
    owners: np.ndarray  # [M] index into classes
    trained: np.ndarray  # [C] bool

    @classmethod
    def from_arrays(cls, title: str, arrays: Mapping[str, np.ndarray], which: str) -> TextMap:
        """``which``: ``learned`` or ``zeroshot`` features of a ``text_embeddings.npz``."""
        return cls(
            title,
            [str(c) for c in arrays["classes"]],
            arrays[f"class_{which}"],
            arrays[f"phrase_{which}"],
            arrays["phrase_owner"],
            arrays["trained"],
        )

    def alignment(self) -> tuple[float, float]:
        """(mean cos of a class to its own phrases, mean cos to other classes' phrases)."""
        if len(self.owners) == 0:
            return float("nan"), float("nan")
        cos = self.class_features @ self.phrase_features.T  # [C, M]
        own = self.owners[None, :] == np.arange(len(self.classes))[:, None]
        other = float(cos[~own].mean()) if (~own).any() else float("nan")
        return float(cos[own].mean()), other


def embed_2d(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """t-SNE of ``features`` [n, D] -> [n, 2] (perplexity scaled to n, PCA init, seeded)."""
    from sklearn.manifold import TSNE

    n = len(features)
    if n < 3:
        return np.zeros((n, 2))
    perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=seed, metric="cosine"
    ).fit_transform(features)


def tsne_figure(dataset: str, maps: Sequence[TextMap]) -> Figure:
    """One t-SNE panel per map, side by side."""
    figure, axes = plt.subplots(1, len(maps), figsize=(5.0 * len(maps), 5.0), squeeze=False)
    for ax, text_map in zip(axes[0], maps, strict=True):
        points = embed_2d(np.concatenate([text_map.class_features, text_map.phrase_features]))
        n = len(text_map.classes)
        for index, name in enumerate(text_map.classes):
            color = plt.cm.tab20(index % 20)
            mine = points[n:][text_map.owners == index]
            ax.scatter(mine[:, 0], mine[:, 1], s=12, color=color, alpha=0.6)
            marker = "*" if text_map.trained[index] else "P"
            ax.scatter(*points[index], s=180, color=color, marker=marker, edgecolor="black")
            ax.annotate(name, points[index], fontsize=7, xytext=(4, 4), textcoords="offset points")
        own, other = text_map.alignment()
        ax.set_title(f"{text_map.title}\ncos to own neighbours {own:.3f}, to others' {other:.3f}")
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(
        f"{dataset}: t-SNE of class texts (stars: base, crosses: new) and their neighbours (dots)",
        fontsize=11,
    )
    return figure
