"""Tables (and, later, plots and reports) built from sweep results."""
