"""Identifier sharing: other applications (and customers) sharing the instance's identifiers.

Columns ``shared_apps_{kind}``, ``shared_customers_{kind}``, ``shared_apps_total``,
``shared_customers_total``, ``shared_apps_max_identifier`` and
``shared_customers_max_identifier``. Counts are distinct other applications
(customers, the instance's own customer excluded) over the identifiers considered.

Past the cap on very common identifiers (:mod:`._pairs`) the per-identifier application
counts stay exact, and the ``shared_apps`` counts are raised to at least that exact
count; customer counts are lower bounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from creditml.features.graph._arrays import count_customers, group_max, unique
from creditml.features.graph._edges import OwnIdentifiers
from creditml.features.graph._inputs import Applications, Instances
from creditml.features.graph._names import PREFIX, kind_label
from creditml.features.graph._pairs import PairChunk


class SharingCounts:
    """Accumulates the sharing counts over pair chunks; ``columns`` gives the features."""

    def __init__(self, own: OwnIdentifiers, apps: Applications, instances: Instances, n_kinds: int,
                 with_customers: bool):
        self.own, self.apps, self.instances = own, apps, instances
        self.n_kinds, self.with_customers = n_kinds, with_customers
        n_inst = instances.n
        self.apps_total = np.zeros(n_inst, dtype=np.int64)
        self.apps_kind = np.zeros(n_inst * n_kinds, dtype=np.int64)
        self.customers_total = np.zeros(n_inst, dtype=np.int64)
        self.customers_kind = np.zeros(n_inst * n_kinds, dtype=np.int64)
        self.customers_ident = np.zeros(len(own), dtype=np.int64)

    def add(self, pairs: PairChunk) -> None:
        own, n_inst, n_kinds = self.own, self.instances.n, self.n_kinds
        span_app = max(self.apps.n, 1)
        self.apps_total += np.bincount(pairs.row, minlength=n_inst)
        # distinct (instance, kind, other application), for kinds with their own column
        kinded = own.kind[pairs.ident] >= 0
        ident, other = pairs.ident[kinded], pairs.other[kinded]
        rko = unique((own.row[ident] * n_kinds + own.kind[ident]) * span_app + other)
        rk, ko = rko // span_app, rko % span_app
        self.apps_kind += np.bincount(rk, minlength=n_inst * n_kinds)
        if self.with_customers:
            self._add_customers(pairs, rk, ko)

    def _add_customers(self, pairs: PairChunk, rk: np.ndarray, ko: np.ndarray) -> None:
        own, n_inst, n_kinds = self.own, self.instances.n, self.n_kinds
        app_cust, inst_cust = self.apps.customer, self.instances.customer
        span_cust = max(len(self.apps.customers), 1)
        self.customers_total += count_customers(pairs.row, app_cust[pairs.app], inst_cust[pairs.row], n_inst,
                                                span_cust)
        self.customers_kind += count_customers(rk, app_cust[ko], inst_cust[rk // max(n_kinds, 1)],
                                               n_inst * n_kinds, span_cust)
        self.customers_ident += count_customers(pairs.ident, app_cust[pairs.other],
                                                inst_cust[own.row[pairs.ident]], len(own), span_cust)

    def columns(self, kinds: Sequence[object]) -> dict[str, np.ndarray]:
        own, n_inst, n_kinds = self.own, self.instances.n, self.n_kinds
        max_ident_apps = group_max(own.row, own.others, n_inst, 0.0)
        kinded = own.kind >= 0
        kind_max_apps = group_max(own.row[kinded] * n_kinds + own.kind[kinded], own.others[kinded],
                                  n_inst * n_kinds, 0.0)
        # very common identifiers: never report fewer sharers than one identifier has exactly
        apps_kind = np.maximum(self.apps_kind, kind_max_apps).reshape(n_inst, n_kinds)
        customers_kind = self.customers_kind.reshape(n_inst, n_kinds)
        out = {f"{PREFIX}shared_apps_max_identifier": max_ident_apps,
               f"{PREFIX}shared_apps_total": np.maximum(self.apps_total, max_ident_apps)}
        for code, kind in enumerate(kinds):
            k = kind_label(kind)
            out[f"{PREFIX}shared_apps_{k}"] = apps_kind[:, code]
            if self.with_customers:
                out[f"{PREFIX}shared_customers_{k}"] = customers_kind[:, code]
        if self.with_customers:
            out[f"{PREFIX}shared_customers_total"] = self.customers_total
            out[f"{PREFIX}shared_customers_max_identifier"] = group_max(
                own.row, self.customers_ident.astype(float), n_inst, 0.0)
        return out
