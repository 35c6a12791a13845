"""The policy engine: our small interface around Cedar (cedarpy).

The service asks `Engine.require(request)` before every governed action; `vault policy explain`
and the TUI's greyed-out actions ask `Engine.decide(request)`. The engine never fails open:

- what no policy permits is refused (Cedar's default deny);
- any evaluation error refuses, even when the remaining policies would allow — Cedar skips a policy
  whose condition errors, so a `forbid` that errors would otherwise let the request through;
- anything other than a clean `Allow` from Cedar (`Deny`, `NoDecision`, an exception) refuses.

A request the policies cannot even be asked about — an unknown action, an action on a kind of
resource it does not apply to, a role the schema does not declare — is a `UsageError`: that is a bug
or a typo to fix, not a decision to hide behind a silent deny.
"""

from __future__ import annotations

import cedarpy

from vault.errors import AccessDenied, UsageError
from vault.policy.cedarjson import short_error, to_cedar
from vault.policy.model import (
    ACTIONS,
    Decision,
    Principal,
    Request,
    Resource,
    ResourceKind,
    effective_embargo,
)
from vault.policy.policyset import PolicyError, PolicyInfo, PolicySet
from vault.policy.source import Problem

__all__ = [
    "ACTIONS",
    "Decision",
    "Engine",
    "PolicyDenied",
    "PolicyError",
    "PolicyInfo",
    "PolicySet",
    "Principal",
    "Problem",
    "Request",
    "Resource",
    "ResourceKind",
    "effective_embargo",
]


class PolicyDenied(AccessDenied):
    """The policies refused a request; `decision` says which rules and why."""

    def __init__(self, decision: Decision, *, hint: str | None = None) -> None:
        super().__init__(decision.explain(), hint=hint)
        self.decision = decision


class Engine:
    """Decides requests against one loaded, validated `PolicySet`."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies

    def decide(self, request: Request) -> Decision:
        """Evaluate a request; refuse unless Cedar cleanly allows it.

        Args:
            request: who asks to do what, on what, when, with which approvals.

        Returns:
            The decision, with the `@id`s of the policies that determined it.

        Raises:
            UsageError: unknown action, an action on a resource it does not apply to, a role the
                schema does not declare, a negative approval count, fewer `approvers` than
                the approvals of any one role, a document without a collection.
        """
        self._check(request)
        asked, facts = request.describe(), request.facts()
        cedar_request, entities = to_cedar(request, self.policies.roles)
        try:
            result = cedarpy.is_authorized(
                cedar_request,
                self.policies.cedar_policies,
                entities,
                schema=self.policies.cedar_schema,
            )
        except Exception as exc:  # whatever went wrong, the answer is no
            return Decision(False, errors=(f"evaluation failed: {exc}",), asked=asked, facts=facts)
        errors = tuple(
            self.policies.name_policies(short_error(e)) for e in result.diagnostics.errors
        )
        infos = [self._info(r) for r in result.diagnostics.reasons]
        allowed = result.decision is cedarpy.Decision.Allow and not errors
        if errors or result.decision not in (cedarpy.Decision.Allow, cedarpy.Decision.Deny):
            return Decision(
                False,
                errors=errors or (f"no decision ({result.decision.value})",),
                asked=asked,
                facts=facts,
            )
        return Decision(
            allowed,
            reasons=tuple(i.id for i in infos),
            notes=tuple(i.note() for i in infos),
            asked=asked,
            facts=facts,
        )

    def require(self, request: Request) -> Decision:
        """Decide, and raise unless allowed; the service calls this before each governed action.

        Returns:
            The (allowing) decision, for the audit entry.

        Raises:
            PolicyDenied: (a `Refused`, exit code 3) with the explanation as message.
            UsageError: as for `decide`.
        """
        decision = self.decide(request)
        if not decision.allowed:
            resource = request.resource
            raise PolicyDenied(
                decision,
                hint=(
                    f"`vault policy explain {request.action} --for {request.principal.member} "
                    f"--on {resource.id}` shows the rules that apply"
                ),
            )
        return decision

    def _info(self, cedar_id: str) -> PolicyInfo:
        found = self.policies.info(cedar_id)
        return found or PolicyInfo(cedar_id, "", "?", 0, "")

    def _check(self, request: Request) -> None:
        action, resource = request.action, request.resource
        if action not in ACTIONS:
            raise UsageError(
                f"unknown action `{action}`",
                hint="actions: " + ", ".join(sorted(ACTIONS)),
            )
        kinds = self.policies.applies_to.get(action, frozenset())
        if resource.kind not in kinds:
            raise UsageError(
                f"`{action}` does not apply to a {resource.kind.lower()}",
                hint=f"`{action}` applies to: " + ", ".join(sorted(k.lower() for k in kinds)),
            )
        known = set(self.policies.roles)
        unknown = sorted((set(request.principal.roles) | set(request.approvals)) - known)
        if unknown:
            raise UsageError(
                "role not declared in the policy schema: " + ", ".join(unknown),
                hint="declared roles: " + ", ".join(self.policies.roles),
            )
        if any(count < 0 for count in request.approvals.values()):
            raise UsageError("approval counts cannot be negative")
        most = max(request.approvals.values(), default=0)
        if request.approvers < most:
            raise UsageError(
                f"{request.approvers} approver(s) cannot give {most} approvals of one role",
                hint="pass `approvers`: the number of distinct members with a valid approval",
            )
        if resource.kind == "Document" and not resource.collection:
            raise UsageError(f"document {resource.id} names no collection")
        if resource.kind == "Vault" and (
            resource.embargo_until is not None or resource.collection_embargo_until is not None
        ):
            raise UsageError("a vault has no embargo; embargoes are on collections and documents")
