"""Which operations of openapi.yaml answered 2xx at least once in schemathesis HAR reports.

A fuzz run whose every request was refused (401s, 404s on made-up ids) checks no success
response against the spec, yet passes. This prints, per tag family, how many operations got at
least one 2xx answer, names the ones that never did, and exits non-zero when the share over all
operations is below --min, or when the reports hold no request at all.

Usage: python3 scripts/schemathesis_share.py --min 0.8 target/schemathesis/*.har
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from collections import defaultdict
from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def operations() -> list[tuple[str, re.Pattern[str], str, str]]:
    """(method, path pattern, operationId, tag) of every operation, literal paths first."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    ops = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            segments = ("[^/]+" if s.startswith("{") else re.escape(s) for s in path.split("/"))
            pattern = re.compile("^" + "/".join(segments) + "$")
            literal = len([s for s in path.split("/") if not s.startswith("{")])
            ops.append((literal, method.upper(), pattern, op["operationId"], (op.get("tags") or ["untagged"])[0]))
    ops.sort(key=lambda o: -o[0])
    return [(m, p, i, t) for _, m, p, i, t in ops]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, required=True, help="least share of operations with a 2xx, 0..1")
    parser.add_argument("har", nargs="+", type=Path)
    args = parser.parse_args(argv)

    ops = operations()
    ok: set[str] = set()
    requests = 0
    for har in args.har:
        for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
            requests += 1
            method = entry["request"]["method"].upper()
            path = urllib.parse.urlsplit(entry["request"]["url"]).path
            status = entry["response"]["status"]
            op = next((i for m, p, i, _ in ops if m == method and p.match(path)), None)
            if op is not None and 200 <= status < 300:
                ok.add(op)

    families: dict[str, list[str]] = defaultdict(list)
    for _, _, op, tag in ops:
        families[tag].append(op)
    print(f"schemathesis: {requests} requests; operations that answered 2xx at least once, per family:")
    for tag in sorted(families):
        members = families[tag]
        hit = [o for o in members if o in ok]
        missing = [o for o in members if o not in ok]
        line = f"  {tag:<10} {len(hit):>2}/{len(members):<2} {100 * len(hit) / len(members):5.1f}%"
        print(line + (f"  never 2xx: {', '.join(missing)}" if missing else ""))
    share = len(ok) / len(ops)
    print(f"  {'all':<10} {len(ok):>2}/{len(ops):<2} {100 * share:5.1f}%  (minimum {100 * args.min:.0f}%)")
    if requests == 0:
        print("FAIL: the reports hold no request", file=sys.stderr)
        return 1
    if share < args.min:
        print(f"FAIL: only {100 * share:.1f}% of the operations answered 2xx", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
