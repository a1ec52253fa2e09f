"""The local supply network: who names whom as main customer or supplier.

``clienti_principali`` and ``fornitori_principali`` hold company names or VAT
numbers as the respondent wrote them. They are matched to the surveyed
companies with the identity rules of reading (:class:`CompanyLookup`); a
mention of a company outside the survey is kept as unmatched. Goods flow
from supplier to customer, so an edge runs supplier -> customer whichever
side wrote it.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd

from analysis.codebook import Codebook
from analysis.identity import CompanyLookup

RELATIONS = {"clienti_principali": "cliente", "fornitori_principali": "fornitore"}


def supply_edges(responses: pd.DataFrame, cb: Codebook) -> tuple[pd.DataFrame, int]:
    """Edges ``supplier``, ``customer``, ``named_by`` (company_ids) between surveyed companies, one per
    distinct pair, and the number of mentions that named no surveyed company."""
    lookup = CompanyLookup(responses, cb.legal_forms)
    cache: dict[str, str | None] = {}
    rows, unmatched = [], 0
    for field, relation in RELATIONS.items():
        if field not in responses:
            continue
        for cid, mentions in zip(responses["company_id"], responses[field], strict=True):
            if mentions is None or isinstance(mentions, float):
                continue
            for text in mentions:
                if text not in cache:
                    cache[text] = lookup.find(text)
                other = cache[text]
                if other is None:
                    unmatched += 1
                elif other != cid:
                    supplier, customer = (cid, other) if relation == "cliente" else (other, cid)
                    rows.append((supplier, customer, cid))
    edges = pd.DataFrame(rows, columns=["supplier", "customer", "named_by"])
    edges = edges.drop_duplicates(["supplier", "customer"]).sort_values(["supplier", "customer"], kind="stable")
    return edges.reset_index(drop=True), unmatched


def supply_graph(responses: pd.DataFrame, edges: pd.DataFrame) -> nx.DiGraph:
    """Directed graph supplier -> customer over every accepted company (isolated ones included)."""
    g = nx.DiGraph()
    g.add_nodes_from(sorted(responses["company_id"]))
    g.add_edges_from(zip(edges["supplier"], edges["customer"], strict=True))
    return g


def linked_companies(responses: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """Per company (index of ``responses``): how many other surveyed companies it is linked to as customer
    or supplier, whichever side named the link."""
    pairs = pd.concat([edges[["supplier", "customer"]].set_axis(["a", "b"], axis=1),
                       edges[["customer", "supplier"]].set_axis(["a", "b"], axis=1)]).drop_duplicates()
    degree = pairs.groupby("a")["b"].nunique()
    return responses["company_id"].map(degree).fillna(0).astype(int)
