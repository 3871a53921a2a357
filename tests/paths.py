"""Where the tests' data lives: everything is inside the project, so any clone runs the suite."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "seed"
CORPUS = PROJECT / "tests" / "corpus"  # copies of the shared corpus, with their NOTICEs
SITE = CORPUS / "zarr.dev"  # real pages of zarr.dev
XSS = CORPUS / "xss"
NAUGHTY_STRINGS = CORPUS / "naughty-strings" / "blns.txt"
