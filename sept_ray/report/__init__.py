"""Sweep reports: paper-layout tables beside the paper's numbers, figures, HTML (sept report)."""
