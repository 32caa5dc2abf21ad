"""The paper's SEPT ablation: seven rows of the four switches (docs/METHOD.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AblationRow:
    """One row of the paper's SEPT ablation; row 1 is plain CoOp."""

    number: int
    use_intra: bool
    intra_margin: bool
    use_inter: bool
    inter_margin: bool

    @property
    def label(self) -> str:
        return f"row{self.number}"

    def sept(self) -> dict[str, Any]:
        """The ``sept`` config section of this row."""
        enabled = self.use_intra or self.use_inter
        return {
            "enabled": enabled,
            "use_intra": self.use_intra,
            "intra_margin": self.intra_margin,
            "use_inter": self.use_inter,
            "inter_margin": self.inter_margin,
        }


ABLATION_ROWS = (
    AblationRow(1, False, False, False, False),
    AblationRow(2, True, False, False, False),
    AblationRow(3, True, True, False, False),
    AblationRow(4, False, False, True, False),
    AblationRow(5, False, False, True, True),
    AblationRow(6, True, False, True, False),
    AblationRow(7, True, True, True, True),
)
"""The paper's seven rows: (L_intra, m_intra, L_inter, m_inter) switches."""
