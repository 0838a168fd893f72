"""Governance: who people are, what they decided, and whether the record still holds.

Sits below ``registry`` in the layering: it imports neither MLflow nor any creditml
package other than ``creditml.errors``. ``registry`` (promotion, audit), the CLI and
the loaders build on it.

- ``identities``: users, roles, argon2 passwords, hashed API tokens.
"""

from creditml.governance.errors import AuthError, GovernanceError, IdentityError
from creditml.governance.identities import (IssuedToken, add_role, authenticate_password, authenticate_token,
                                            create_user, disable_user, get_identity, issue_token, remove_role,
                                            revoke_token, set_password)
from creditml.governance.records import ROLES, Identity
from creditml.governance.store import GovernanceStore, connect

__all__ = [
    "AuthError", "GovernanceError", "GovernanceStore", "Identity", "IdentityError", "IssuedToken", "ROLES",
    "add_role", "authenticate_password", "authenticate_token", "connect", "create_user", "disable_user",
    "get_identity", "issue_token", "remove_role", "revoke_token", "set_password",
]
