"""Project folders, built from this file's location, never from the working directory."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA = PROJECT_ROOT / "data"
RAW = DATA / "raw"
PROCESSED = DATA / "processed"
SAMPLE = DATA / "sample"
STARTUPS = DATA / "startups"
REPORTS = PROJECT_ROOT / "reports"
NOTEBOOKS = PROJECT_ROOT / "notebooks"

SAMPLE_SURVEY_DIR = SAMPLE / "survey"  # only the sample workbook: run reads this folder
SAMPLE_SURVEY = SAMPLE_SURVEY_DIR / "survey_sample.xlsx"
SAMPLE_TRUTH = SAMPLE / "planted_structure.csv"
DEFAULT_CORRECTIONS = (DATA / "corrections.csv", DATA / "corrections.xlsx")
DEFAULT_VERDICTS = (DATA / "verdetti_startup.csv", DATA / "verdetti_startup.xlsx")  # scouts' verdicts
SAMPLE_STARTUPS_DIR = SAMPLE / "startups"  # the bundled synthetic startup list, beside the sample survey
SAMPLE_STARTUPS = SAMPLE_STARTUPS_DIR / "startups_sample.xlsx"
SAMPLE_STARTUPS_TRUTH = SAMPLE / "planted_startups.csv"
