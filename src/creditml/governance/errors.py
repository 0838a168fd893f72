"""Governance errors. Each message names what was refused, what was expected, what was
found and what to do; the CLI prints it and exits with code 2 (``CreditmlError``)."""

from __future__ import annotations

from creditml.errors import CreditmlError


class GovernanceError(CreditmlError):
    """Base class of every governance refusal."""


class IdentityError(GovernanceError):
    """A user or role operation was refused (unknown user, duplicate name, unknown role)."""


class AuthError(GovernanceError):
    """A credential was refused: unknown, wrong, revoked, or the user is disabled."""


class LedgerKeyError(GovernanceError):
    """The ledger signing key or its public key is missing, unreadable or too exposed."""


class DecisionRefused(GovernanceError):
    """A governance rule refuses an actor's decision on a model version."""

    def __init__(self, message: str, *, actor: str, version: str | None, rule: str):
        self.actor, self.version, self.rule = actor, version, rule
        super().__init__(message)


class ConcurrentDecisionError(GovernanceError):
    """Another decision was recorded first and this one is no longer valid (or could not be
    serialised after several retries); nothing was written."""


class LedgerIntegrityError(GovernanceError):
    """The ledger of a model fails verification: a row was edited, deleted or reordered."""

    def __init__(self, report):
        self.report = report
        super().__init__(str(report))
