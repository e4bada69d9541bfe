"""Differences between two images: pairing, the diff engine, cause codes and content explainers."""
