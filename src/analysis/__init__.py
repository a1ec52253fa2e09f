"""Cluster-needs survey toolkit of Confindustria Varese and PoliHub.

Reading the survey spreadsheets, comparing needs across the two sector
groups, segmenting companies, ranking supply-chain priorities, selecting
Champions and scouting startups. See README.md and docs/contratto-dati.md.
"""

import os as _os

__version__ = "0.1.0"

# Idle OpenMP threads (scikit-learn's k-means) sleep instead of spinning, so a busy machine slows the analysis
# in proportion instead of many times over. Read once, when the OpenMP runtime loads: set before any import of
# numpy or scikit-learn through this package (see analysis.threads).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
