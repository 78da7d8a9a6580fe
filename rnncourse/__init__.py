"""Helpers shared by the course notebooks: seeding, data, training budgets, plots.

Every notebook opens with ``from rnncourse import setup; setup(seed=0)``. Code that two
notebooks need lives here, never pasted into both.
"""
from rnncourse.env import fast_mode, seed_everything, setup

__all__ = ["fast_mode", "seed_everything", "setup"]
