"""SHAP values, reason codes and the HTML model review report.

``shap_values``, ``compare`` (challenger against champion) and ``stability`` (by month and
segment) hold the maths, ``report`` assembles the page's data and renders it
(``templates/report.html.j2``), ``inputs`` is the edge that loads a registered version
from MLflow and writes the page.
"""

from creditml.explain.report import ReportInputs, build_report
from creditml.explain.shap_values import AdditivityError, ShapValues, mean_abs_importance, shap_values

__all__ = ["AdditivityError", "ReportInputs", "ShapValues", "build_report", "mean_abs_importance", "shap_values"]
