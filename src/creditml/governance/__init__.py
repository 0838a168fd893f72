"""Governance: who people are, what they decided, and whether the record still holds.

Sits below ``registry`` in the layering: it imports neither MLflow nor any creditml
package other than ``creditml.errors``. ``registry`` (promotion, audit), the CLI and
the loaders build on it.

- ``identities``: users, roles, argon2 passwords, hashed API tokens.
- ``ledger``: the append-only, hash-chained, Ed25519-signed decision ledger per model.
- ``decisions``: the pure four-eyes, promotion and rollback rules over ledger rows.
"""

from creditml.governance.decisions import (FourEyesPolicy, approval_in_force, champion_of, champion_stack,
                                           may_approve, may_promote, may_review, may_rollback, previous_champion)
from creditml.governance.errors import (AuthError, ConcurrentDecisionError, DecisionRefused, GovernanceError,
                                        IdentityError, LedgerIntegrityError, LedgerKeyError)
from creditml.governance.decisions import registration_of, trainer_of
from creditml.governance.identities import (IssuedToken, add_role, authenticate_password, authenticate_token,
                                            create_first_admin, create_user, disable_user, get_identity, issue_token,
                                            remove_role, revoke_token, set_password, user_count)
from creditml.governance.signin import current_token, forget_token, save_token, signed_in, signed_in_or_none
from creditml.governance.keys import SigningKey, VerifyingKey, load_public_keys
from creditml.governance.ledger import Ledger, Problem, VerifyReport
from creditml.governance.records import KINDS, ROLES, UNVERIFIED, Identity, LedgerEntry
from creditml.governance.store import GovernanceStore, connect

__all__ = [
    "AuthError", "ConcurrentDecisionError", "DecisionRefused", "FourEyesPolicy", "GovernanceError",
    "GovernanceStore", "Identity", "IdentityError", "IssuedToken", "KINDS", "Ledger", "LedgerEntry",
    "LedgerIntegrityError", "LedgerKeyError", "Problem", "ROLES", "SigningKey", "VerifyReport", "VerifyingKey",
    "add_role", "approval_in_force", "authenticate_password", "authenticate_token", "champion_of",
    "champion_stack", "connect", "create_user", "disable_user", "get_identity", "issue_token",
    "load_public_keys", "may_approve", "may_promote", "may_review", "may_rollback", "previous_champion",
    "remove_role", "revoke_token", "set_password", "registration_of", "trainer_of", "create_first_admin",
    "user_count", "current_token", "forget_token", "save_token", "signed_in", "signed_in_or_none", "UNVERIFIED",
]
