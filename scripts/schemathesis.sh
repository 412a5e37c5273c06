#!/usr/bin/env bash
# Fuzzes a live sandbox with schemathesis against openapi.yaml: every operation, bounded in
# examples per operation, failing on 5xx, undocumented statuses, wrong content types and response
# bodies that break the spec's schemas. Everything stays on 127.0.0.1.
#
#   bash scripts/schemathesis.sh            # SCHEMATHESIS_MAX_EXAMPLES (default 20) per operation
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
log="$(mktemp)"
report="${SCHEMATHESIS_REPORT_DIR:-target/schemathesis}"

cargo build --quiet --locked --example sandbox
target/debug/examples/sandbox >"$log" 2>&1 &
pid=$!
stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$log"
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
token="$(python3 - "$base" "$link" <<'PY'
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
print(re.search(r'<code id="token">([^<]+)</code>', page).group(1))
PY
)"

# --max-examples bounds each operation; `timeout` bounds each run in case of a hang. Token
# revocation runs last, on its own: the fuzzer learns token ids from responses and would
# otherwise revoke the very key it tests with, leaving every later operation a bare 401.
fuzz() {
    timeout 600 st run openapi.yaml \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$max_examples" \
        --seed 20261125 \
        --workers 2 \
        --request-timeout 10 \
        --report "${SCHEMATHESIS_REPORTS:-junit}" --report-dir "$report" \
        "$@"
}
fuzz --exclude-operation-id revoke_token
fuzz --include-operation-id revoke_token --include-operation-id revoke_agent_token
