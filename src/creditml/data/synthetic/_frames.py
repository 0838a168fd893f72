"""Turn one simulated chunk into table frames as extracted on ``as_of``.

Rows stamped after ``as_of`` are not written (installments due later, cases opened
later, actions taken later, loans disbursed later); late-known values that arrive
after ``as_of`` (a payment, a promise check) are written as missing. Label columns
hold the eventual truth with the time it became known; instances whose label is not
known by ``as_of`` are censored by the task definitions, not by the writer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.data.synthetic._collections import CHANNELS, OUTCOMES
from creditml.data.synthetic._fraud import ID_KINDS, hash_values
from creditml.data.synthetic._params import CURE_WINDOW_DAYS, END_DAY, FRAUD_MATURITY_DAYS
from creditml.data.synthetic._skeleton import KINDS, PURPOSES, REGIONS


def intermediaries_frame(sk: dict) -> pd.DataFrame:
    m = sk["intermediaries"]
    n = len(m["kind"])
    return pd.DataFrame({
        "intermediary_id": pd.Series(np.arange(n)).astype(str).str.zfill(5).radd("INT").to_numpy(),
        "registered_at": m["registered"], "kind": KINDS[m["kind"]], "region": REGIONS[m["region"]],
        "commission_rate": m["commission_rate"],
    })


def chunk_frames(sim, sk: dict, fraud: dict, vals: np.ndarray) -> tuple[dict, pd.DataFrame]:
    a = sk["apps"]
    out: dict[str, pd.DataFrame] = {}
    order = np.argsort(sim.app_ix, kind="stable")  # applications in id (= time) order
    ix = sim.app_ix[order]
    inter = a["inter"][ix]
    out["applications"] = pd.DataFrame({
        "application_id": ix.astype(np.int64), "customer_id": a["cust"][ix].astype(np.int64),
        "intermediary_id": pd.Series(inter).astype(str).str.zfill(5).radd("INT").where(inter >= 0, None).to_numpy(),
        "applied_at": a["t"][ix], "amount_requested": a["amount"][ix], "term_months": a["term"][ix],
        "declared_income": a["declared"][ix], "purpose": PURPOSES[a["purpose"][ix]], "channel": a["channel"][ix],
        "decision": np.where(sim.approved[order], "approved", "rejected"),
        "fraud_confirmed": fraud["label"][ix].astype(np.int64), "fraud_confirmed_at": fraud["confirmed_at"][ix],
        # a confirmation is known when it happens; "not fraud" once the review window has passed
        "fraud_label_known_at": np.where(fraud["label"][ix] == 1, fraud["confirmed_at"][ix],
                                         a["t"][ix] + FRAUD_MATURITY_DAYS),
    })
    n6 = len(ix) * 6
    out["application_identifiers"] = pd.DataFrame({
        "application_identifier_id": np.repeat(ix.astype(np.int64) * 8, 6) + np.tile(np.arange(6), len(ix)),
        "application_id": np.repeat(ix.astype(np.int64), 6), "kind": np.tile(ID_KINDS, len(ix)),
        "value_hash": hash_values(vals[ix].ravel()) if n6 else np.zeros(0, object),
        "seen_at": np.repeat(a["t"][ix], 6),
    })
    # loans disbursed by as_of
    la = order[sim.approved[order] & (sim.disb[order] <= END_DAY)]
    known = sim.default_known_at()
    out["loans"] = pd.DataFrame({
        "loan_id": sim.app_ix[la].astype(np.int64), "application_id": sim.app_ix[la].astype(np.int64),
        "customer_id": sim.cids[sim.lc[la]].astype(np.int64), "disbursed_at": sim.disb[la],
        "principal": sim.principal[la], "term_months": sim.term[la], "interest_rate": sim.rate[la],
        "default_90dpd_12m": sim.default[la].astype(np.int64), "default_known_at": known[la],
    })
    st = sim.st
    s = np.flatnonzero(st["valid"] & (st["due"] <= END_DAY))
    s = s[np.argsort(sim.app_ix[sim.slot_app[s]] * 64 + (s - sim.slot_start[sim.slot_app[s]]), kind="stable")]
    app = sim.slot_app[s]
    paid_ok = st["paid"][s] <= END_DAY
    j = s - sim.slot_start[app] + 1
    out["installments"] = pd.DataFrame({
        "installment_id": sim.app_ix[app].astype(np.int64) * 64 + j, "loan_id": sim.app_ix[app].astype(np.int64),
        "customer_id": sim.cids[sim.lc[app]].astype(np.int64), "installment_number": j.astype(np.int64),
        "due_at": st["due"][s], "amount_due": st["amt"][s],
        "paid_at": np.where(paid_ok, st["paid"][s], np.nan), "amount_paid": np.where(paid_ok, st["apaid"][s], np.nan),
        "days_late": np.where(paid_ok, st["late"][s], np.nan),
    })
    coll = sim.coll
    oracle = [_oracle("credit_default", sim.app_ix[la], sim.p_default[la], sim.default[la], known[la] <= END_DAY)]
    fi = ix[inter >= 0]
    oracle.append(_oracle("intermediary_fraud", fi, fraud["p"][fi], fraud["label"][fi],
                          a["t"][fi] <= END_DAY - FRAUD_MATURITY_DAYS))
    if coll.cases:
        c = {k: np.concatenate([x[k] for x in coll.cases]) for k in coll.cases[0]}
        from creditml.data.synthetic._collections import _case_id
        cid = _case_id(sim, c["slot"])
        keep = c["open"] <= END_DAY
        o = np.argsort(cid[keep], kind="stable")
        out["collection_cases"] = pd.DataFrame({
            "case_id": cid[keep][o], "loan_id": sim.app_ix[c["app"]][keep][o].astype(np.int64),
            "customer_id": c["cust"][keep][o], "opened_at": c["open"][keep][o],
            "balance_at_open": c["balance"][keep][o], "dpd_at_open": c["dpd"][keep][o],
            "cured_30d": c["cured"][keep][o].astype(np.int64), "cured_known_at": c["known"][keep][o],
        })
        oracle.append(_oracle("collection_cure", cid, c["prob"], c["cured"], c["open"] + CURE_WINDOW_DAYS <= END_DAY))
        x = {k: np.concatenate([y[k] for y in coll.actions]) for k in coll.actions[0]}
        keep = x["at"] <= END_DAY
        o = np.argsort(x["action_id"][keep], kind="stable")
        checked_ok = x["checked"] <= END_DAY
        kept = pd.array(np.where(checked_ok, x["kept"], False), dtype="boolean")
        kept[~checked_ok] = pd.NA
        out["collection_actions"] = pd.DataFrame({
            "action_id": x["action_id"][keep][o], "case_id": x["case_id"][keep][o], "customer_id": x["cust"][keep][o],
            "action_at": x["at"][keep][o], "channel": CHANNELS[x["channel"]][keep][o],
            "outcome": OUTCOMES[x["outcome"]][keep][o], "promise_kept": kept[keep][o],
            "promise_checked_at": np.where(checked_ok, x["checked"], np.nan)[keep][o],
        })
    else:
        out["collection_cases"] = pd.DataFrame({k: [] for k in ("case_id", "loan_id", "customer_id", "opened_at",
                                                                "balance_at_open", "dpd_at_open", "cured_30d", "cured_known_at")})
        out["collection_actions"] = pd.DataFrame({k: [] for k in ("action_id", "case_id", "customer_id", "action_at", "channel",
                                                                  "outcome", "promise_kept", "promise_checked_at")})
    return out, pd.concat(oracle, ignore_index=True)


def _oracle(task, ids, p, label, mature) -> pd.DataFrame:
    m = np.asarray(mature, bool)
    return pd.DataFrame({"task": task, "instance_id": np.asarray(ids, np.int64)[m],
                         "probability": np.asarray(p, float)[m], "label": np.asarray(label, np.int64)[m]})
