"""The MLflow pyfunc: raw relational records in, probability, score, band, reasons out.

Input: a DataFrame with one column ``record`` holding one JSON record per instance (see
``creditml.model.records`` for the shape). With ``mlflow models serve`` the request
body is ``{"dataframe_records": [{"record": "<JSON of the record>"}]}``.
"""

from __future__ import annotations

import warnings

import mlflow.pyfunc
import pandas as pd

from creditml.model.bundle import ModelBundle
from creditml.model.records import parse_records

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")


class CreditmlModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.bundle = ModelBundle.load(context.artifacts["bundle"])

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        if isinstance(model_input, pd.DataFrame):
            values = model_input["record"].tolist()
        elif isinstance(model_input, dict):
            values = model_input["record"] if isinstance(model_input["record"], list) else [model_input["record"]]
        else:
            values = list(model_input)
        return self.bundle.score(parse_records(values))
