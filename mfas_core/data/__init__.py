"""Datasets: one module per source, and `schema` for the shared HDF5 layout."""
