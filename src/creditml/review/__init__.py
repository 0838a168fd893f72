"""The reviewer's workbench: a web app where validators read, challenge and sign off model versions.

``create_app(settings)`` builds the FastAPI app; ``creditml review-server`` runs it with
uvicorn. Pages are server-rendered Jinja2 (``templates/``), no JavaScript.

- ``_sessions``: sign-in with the governance identities, signed session cookies, CSRF tokens.
- ``_queue``: the versions that passed the gates and await a decision.
- ``_decisions``: the one place a review or approval is recorded (four eyes, ledger, tag mirror).
- ``_findings``: typed findings (issue, limitation, policy exception) as ledger rows.
- ``_reports``: each version's HTML report, built once and cached.
- ``_export``: the signed review as a PDF printed by headless chromium, attached to the run.

Sits beside ``serving`` and ``scale``: it reaches MLflow only through ``creditml.registry``
and records decisions only through ``creditml.governance``.
"""

from creditml.review.app import create_app
from creditml.review._settings import ReviewSettings

__all__ = ["ReviewSettings", "create_app"]
