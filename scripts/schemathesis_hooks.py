"""Schemathesis hooks for scripts/schemathesis.sh: reach past the 404s of id-taking operations.

Without help the fuzzer only ever sends made-up ids, so every operation that takes one answers
404 or 400 and its success path is never checked against the spec. Two hooks fix that:

- `before_load_schema` adds OpenAPI links (create -> read/update) to the schema schemathesis
  loads, so its stateful phase chains real ids. Only links that are facts of the API are added
  (the id a create answers with is the id its read takes); openapi.yaml itself is not changed.
- `flatmap_path_parameters` offers, beside the generated value, an id of an object that exists:
  the script seeds them (a draft, a published job with proposals, a contract with a milestone,
  an approval, a top-up, webhooks, a spare token) and names the file in OPENTRAIN_SEEDED.

Loaded with SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks from the repository root.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

# operationId -> {path parameter -> key of the seeded id}.
SEEDED_PARAMS: dict[str, dict[str, str]] = {
    "update_job_draft": {"jobId": "draftJobId"},
    "publish_job": {"id": "readyDraftJobId"},
    "get_public_job": {"id": "jobId"},
    "update_published_job": {"id": "jobId"},
    "close_job": {"id": "closableJobId"},
    "invite_freelancer": {"id": "jobId"},
    "list_job_proposals": {"id": "jobId"},
    "get_proposal": {"proposalId": "proposalId"},
    "get_proposal_interview": {"proposalId": "proposalId"},
    "hire_proposal": {"proposalId": "proposalId"},
    "start_proposal_conversation": {"proposalId": "proposalId"},
    "get_freelancer_profile": {"idOrSlug": "freelancerId"},
    "get_contract": {"contractId": "contractId"},
    "create_milestone": {"contractId": "contractId"},
    "end_contract": {"contractId": "contractId"},
    "fund_milestone": {"milestoneId": "milestoneId"},
    "approve_milestone": {"milestoneId": "fundedMilestoneId"},
    "get_approval": {"approvalId": "approvalId"},
    "get_credit_top_up": {"topUpId": "topUpId"},
    "get_webhook": {"webhookId": "webhookId"},
    "delete_webhook": {"webhookId": "deletableWebhookId"},
    "revoke_token": {"tokenId": "spareTokenId"},
}

# (source operationId, status) -> [(name, target operationId, parameters)]: the id a create or a
# list answers with is the id these operations take.
LINKS: dict[tuple[str, str], list[tuple[str, str, dict[str, str]]]] = {
    ("create_job_draft", "201"): [
        ("UpdateDraft", "update_job_draft", {"jobId": "$response.body#/jobId"}),
        ("PublishDraft", "publish_job", {"id": "$response.body#/jobId"}),
    ],
    ("publish_job", "200"): [
        ("ListProposals", "list_job_proposals", {"id": "$response.body#/jobId"}),
        ("EditPublished", "update_published_job", {"id": "$response.body#/jobId"}),
        ("ReadPublic", "get_public_job", {"id": "$response.body#/jobId"}),
    ],
    ("list_job_proposals", "200"): [
        ("ReadProposal", "get_proposal", {"proposalId": "$response.body#/proposals/0/id"}),
        ("ReadInterview", "get_proposal_interview", {"proposalId": "$response.body#/proposals/0/id"}),
        ("OpenThread", "start_proposal_conversation", {"proposalId": "$response.body#/proposals/0/id"}),
        ("Hire", "hire_proposal", {"proposalId": "$response.body#/proposals/0/id"}),
    ],
    ("hire_proposal", "202"): [("ReadApproval", "get_approval", {"approvalId": "$response.body#/approval/id"})],
    ("fund_milestone", "202"): [("ReadApproval", "get_approval", {"approvalId": "$response.body#/approval/id"})],
    ("approve_milestone", "202"): [("ReadApproval", "get_approval", {"approvalId": "$response.body#/approval/id"})],
    ("create_milestone", "201"): [("Fund", "fund_milestone", {"milestoneId": "$response.body#/milestone/id"})],
    ("list_contracts", "200"): [
        ("ReadContract", "get_contract", {"contractId": "$response.body#/contracts/0/id"}),
        ("AddMilestone", "create_milestone", {"contractId": "$response.body#/contracts/0/id"}),
    ],
    ("create_credit_top_up", "201"): [("ReadTopUp", "get_credit_top_up", {"topUpId": "$response.body#/topUpId"})],
    ("create_webhook", "201"): [
        ("ReadWebhook", "get_webhook", {"webhookId": "$response.body#/webhook/id"}),
        ("DeleteWebhook", "delete_webhook", {"webhookId": "$response.body#/webhook/id"}),
    ],
}


def _seeded() -> dict[str, str]:
    path = os.environ.get("OPENTRAIN_SEEDED")
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


SEEDED = _seeded()


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    operations = {
        op["operationId"]: op
        for item in raw_schema.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for (source, status), links in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            raise SystemExit(f"schemathesis_hooks: {source} has no {status} response: update LINKS")
        # A shared $ref'd response would carry the links to every operation using it; responses
        # here are inline.
        if "$ref" in response:
            raise SystemExit(f"schemathesis_hooks: {source} {status} is a $ref: links would be shared")
        for name, target, parameters in links:
            if target not in operations:
                raise SystemExit(f"schemathesis_hooks: no operation {target}: update LINKS")
            response.setdefault("links", {})[name] = {"operationId": target, "parameters": parameters}


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    operation = context.operation
    op_id = operation.definition.raw.get("operationId") if operation is not None else None
    wanted = SEEDED_PARAMS.get(op_id or "", {})
    real = {param: SEEDED[key] for param, key in wanted.items() if key in SEEDED and param in path_parameters}
    if not real:
        return st.just(path_parameters)
    # Half the cases keep the generated (mostly unknown) id, so the error paths stay covered.
    return st.sampled_from([path_parameters, {**path_parameters, **real}])
