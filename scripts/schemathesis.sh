#!/usr/bin/env bash
# Fuzzes a live sandbox with schemathesis against openapi.yaml: every operation, bounded in
# examples per operation, failing on 5xx, undocumented statuses, wrong content types and response
# bodies that break the spec's schemas. Everything stays on 127.0.0.1.
#
# The sandbox is seeded first (a draft, a published job with proposals, a hired contract with a
# milestone, an approval, a top-up, webhooks, a spare token) and scripts/schemathesis_hooks.py
# offers those ids to the fuzzer and adds create -> read links for the stateful phase, so the
# id-taking operations are checked on their success path too. The run fails unless at least
# SCHEMATHESIS_MIN_2XX (default 0.8) of the operations answered 2xx at least once; the share
# is printed per tag family.
#
#   bash scripts/schemathesis.sh            # SCHEMATHESIS_MAX_EXAMPLES (default 20) per operation
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
min_2xx="${SCHEMATHESIS_MIN_2XX:-0.8}"
log="$(mktemp)"
seeded="$(mktemp)"
report="${SCHEMATHESIS_REPORT_DIR:-target/schemathesis}"
rm -rf "$report"
mkdir -p "$report"

cargo build --quiet --locked --example sandbox
target/debug/examples/sandbox >"$log" 2>&1 &
pid=$!
stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log" "$seeded"
}
trap stop EXIT

# Readiness: the example prints its base URL once it listens; then the discovery document answers.
base=""
for _ in $(seq 1 200); do
    base="$(sed -n 's/^OPENTRAIN_API_BASE_URL=//p' "$log")"
    if [ -n "$base" ] && python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] + '/.well-known/oauth-authorization-server', timeout=2)" "$base" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "sandbox exited early:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -n "$base" ] || { echo "sandbox did not become ready" >&2; cat "$log" >&2; exit 1; }
case "$base" in
    http://127.0.0.1:*) ;;
    *) echo "refusing to fuzz a non-loopback URL: $base" >&2; exit 1 ;;
esac

# The human pages need a person signed in through the one-time link the sandbox prints on stderr.
link="$(sed -n 's|^ *\(http://127\.0\.0\.1:[0-9]*/sign-in?token=[0-9a-f]*\)$|\1|p' "$log" | head -n 1)"
[ -n "$link" ] || { echo "the sandbox printed no sign-in link" >&2; cat "$log" >&2; exit 1; }

# A claimed account with a key holding every scope, so the fuzzer reaches past the auth gates:
# register, have the "human" sign in, type the code on the claim page, mint a key on the API keys page.
token="$(python3 - "$base" "$link" "$seeded" <<'PY'
import json, re, sys, urllib.error, urllib.parse, urllib.request

base, link = sys.argv[1], sys.argv[2]

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

try:
    urllib.request.build_opener(NoRedirect).open(link, timeout=10)
    sys.exit("the sign-in link did not answer with a redirect")
except urllib.error.HTTPError as e:
    cookie = e.headers["Set-Cookie"].split(";")[0]

def call(path, data=None, form=False, token=None):
    headers = {"Cookie": cookie}
    if token:
        headers["Authorization"] = "Bearer " + token
    if data is not None:
        if form:
            data = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.read().decode()

csrf = re.search(r'name="csrf" value="([^"]+)"', call("/account")).group(1)
reg = json.loads(call("/api/agent/identity", {"agent_name": "schemathesis"}))
claim = json.loads(call("/api/agent/identity/claim", {"claim_token": reg["claim_token"], "email": "fuzz@example.com"}))
cat = urllib.parse.parse_qs(urllib.parse.urlparse(claim["verification_uri"]).query)["token"][0]
call("/claim", {"csrf": csrf, "token": cat, "user_code": claim["user_code"]}, form=True)
post = json.loads(call("/api/agent/oauth/token", {"grant_type": reg["grant_type"], "claim_token": reg["claim_token"]}, form=True))
org = json.loads(call("/api/public/v1/auth/me", token=post["access_token"]))["account"]["organizationId"]
scopes = ["jobs:read", "jobs:write", "proposals:read", "proposals:write", "messages:read", "messages:write",
          "payments:read", "payments:write", "team:read", "team:write", "webhooks:manage"]
page = call("/employer-settings/api-keys", {"csrf": csrf, "org": org, "name": "schemathesis", "scope": scopes}, form=True)
token = re.search(r'<code id="token">([^<]+)</code>', page).group(1)

# Seed what the id-taking operations need, through the API and the person's pages.
def api(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    req = urllib.request.Request(base + "/api/public/v1" + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read().decode())

def submit(page_url, suffix, fields):
    """Opens a person's page and submits its form whose action ends with `suffix`."""
    html = call(page_url.replace(base, ""))
    for form in re.findall(r'<form [^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S):
        if form[0].endswith(suffix):
            hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form[1]))
            return call(form[0].replace(base, "").replace("&amp;", "&"), {**hidden, **fields}, form=True)
    sys.exit(f"no form posting to *{suffix} on {page_url}")

JOB = "Spanish tweet sentiment\nLabel 5,000 Spanish tweets as positive, negative or neutral, $0.05 per label, 3 labelers."

def ready_draft():
    draft = api("POST", "/job-drafts", {"rawJobDescription": JOB})
    patch = {g["updateKeys"][0]: g["enumValues"][0] for g in draft["missingFields"]}
    api("PATCH", "/job-drafts/" + draft["jobId"], patch)
    return draft["jobId"]

def published_job():
    job = ready_draft()
    api("POST", "/jobs/%s/publish" % job)
    return job

submit("/employer-settings?tab=billing&org=" + org, "/billing", {})
job = published_job()
proposals = api("GET", "/jobs/%s/proposals" % job)["proposals"]
hire = api("POST", "/proposals/%s/hire" % proposals[0]["id"], {"milestone": {"name": "Pilot", "amount": 100}})
submit(hire["approval"]["approvalUrl"], "/confirm", {"source": "card"})
contract = api("GET", "/approvals/" + hire["approval"]["id"])["approval"]["result"]["contractId"]
funded = api("POST", "/contracts/%s/milestones" % contract, {"description": "Batch 2", "volume": 1000})["milestone"]["id"]
fund = api("POST", "/milestones/%s/fund" % funded)
submit(fund["approval"]["approvalUrl"], "/confirm", {"source": "card"})
hooks = [api("POST", "/webhooks", {"url": "http://127.0.0.1:9/hook", "eventTypes": ["proposal.received"]}) for _ in range(2)]
spare = api("POST", "/tokens", {"name": "spare", "scopes": ["jobs:read"]})
spare_id = next(t["id"] for t in api("GET", "/tokens")["tokens"] if t["name"] == "spare")
seeded = {
    "draftJobId": api("POST", "/job-drafts", {"rawJobDescription": JOB})["jobId"],
    "readyDraftJobId": ready_draft(),
    "jobId": job,
    "closableJobId": published_job(),
    "proposalId": proposals[1]["id"],
    "freelancerId": proposals[1]["candidate"]["id"],
    "contractId": contract,
    "milestoneId": api("POST", "/contracts/%s/milestones" % contract, {"description": "Batch 3", "volume": 500})["milestone"]["id"],
    "fundedMilestoneId": funded,
    "approvalId": hire["approval"]["id"],
    "topUpId": api("POST", "/credits/top-ups", {"amountUsd": 100})["topUpId"],
    "webhookId": hooks[0]["webhook"]["id"],
    "deletableWebhookId": hooks[1]["webhook"]["id"],
    "spareTokenId": spare_id,
}
with open(sys.argv[3], "w", encoding="utf-8") as fh:
    json.dump(seeded, fh)
print(token)
PY
)"
export OPENTRAIN_SEEDED="$seeded" SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks

# --max-examples bounds each operation; `timeout` bounds each run in case of a hang. Token
# revocation runs last, on its own: the fuzzer learns token ids from responses and would
# otherwise revoke the very key it tests with, leaving every later operation a bare 401.
fuzz() {
    local name="$1" phases="$2"
    shift 2
    timeout 600 st run openapi.yaml \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases "$phases" \
        --max-examples "$max_examples" \
        --seed 20261125 \
        --workers 2 \
        --request-timeout 10 \
        --report "${SCHEMATHESIS_REPORTS:-junit},har" --report-dir "$report" \
        --report-junit-path "$report/$name.xml" --report-har-path "$report/$name.har" \
        "$@"
}
# The stateful phase chains calls through links; the revocation run has none to follow.
fuzz main examples,coverage,fuzzing,stateful --exclude-operation-id revoke_token
fuzz revoke examples,coverage,fuzzing --include-operation-id revoke_token --include-operation-id revoke_agent_token

# Which operations answered 2xx at least once, per tag family; too few fails the run.
python3 scripts/schemathesis_share.py --min "$min_2xx" "$report"/*.har
