"""Datasets: models, file formats and stable ids."""
