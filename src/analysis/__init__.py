"""Cluster-needs survey toolkit of Confindustria Varese and PoliHub.

Reading the survey spreadsheets, comparing needs across the two sector
groups, segmenting companies, ranking supply-chain priorities, selecting
Champions and scouting startups. See README.md and docs/contratto-dati.md.
"""

__version__ = "0.1.0"
