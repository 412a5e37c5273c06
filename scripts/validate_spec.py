"""Check openapi.yaml against the OpenAPI 3.0 rules and against the documented example bodies.

The spec is the single source of truth of the generated `opentrain` client, so it
has to accept every body the public docs show. This script:

1. validates openapi.yaml with openapi-spec-validator (OpenAPI 3.0 rules);
2. validates every file listed in tests/fixtures/examples/INDEX.md against the
   schema of its operation (request body, or response of the given status);
3. checks that every field present in an example is declared by that schema,
   since an undeclared field is silently dropped by the generated Rust types;
4. prints one line per example and `N passed, M failed` last, and exits
   non-zero on any failure, and when no example was checked at all (a missing
   or emptied folder must not pass as "0 failed").

Run from the repository root: python3 scripts/validate_spec.py
(`--examples-dir DIR` checks another folder with its own INDEX.md.)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

REPO = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO / "openapi.yaml"
EXAMPLES = REPO / "tests" / "fixtures" / "examples"

# Not an API body: the CLI's credentials file on disk.
NOT_API_BODIES = {"cli__credentials_file__cli.json"}

# The docs abbreviate some bodies with a literal "..." key; it stands for
# "more fields", not for a field the spec should declare.
PLACEHOLDER_KEY = "..."

ERROR_SCHEMA_REF = "#/components/schemas/Error"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class ExampleError(Exception):
    """An example could not be checked or did not match the spec."""


def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def nullable_composites_as_any_of(node: Any) -> Any:
    """Return a copy where `nullable: true` beside allOf/oneOf/anyOf/$ref (and no `type`) accepts null.

    OAS 3.0.3 says nullable only takes effect next to a `type`, so OAS30Validator
    rejects null for `{allOf: [{$ref: X}], nullable: true}`: the null reaches X,
    whose `type: object` has no nullable. That wrapper is however the usual 3.0
    idiom for "a nullable X" and the generator reads it as Option<X>, so for
    validation it is rewritten to the 3.1 meaning `anyOf: [<schema>, null]`.
    OAS 3.0 has no null type; `enum: [null]` is the schema that accepts only null.
    Only this validation copy is changed, never openapi.yaml.
    """
    if isinstance(node, list):
        return [nullable_composites_as_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: nullable_composites_as_any_of(value) for key, value in node.items()}
    composite = any(key in node for key in ("allOf", "oneOf", "anyOf", "$ref"))
    if node.get("nullable") is True and "type" not in node and composite:
        inner = {key: value for key, value in node.items() if key != "nullable"}
        return {"anyOf": [inner, {"enum": [None]}]}
    return node


def check_spec_document(spec: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in OpenAPIV30SpecValidator(spec).iter_errors()
    ]


class SchemaChecker:
    """Validates instances against schemas that live anywhere inside the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        # The whole document is the validator's root resource, so any
        # '#/components/schemas/X' inside any subschema resolves against it;
        # evolve() keeps that resolver while swapping in the schema to check.
        # Formats are checked too: the generated client parses some of them
        # into typed values, so a mismatch would break deserialisation.
        self.root = OAS30Validator(spec, format_checker=OAS30Validator.FORMAT_CHECKER)

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ExampleError(f"only local refs are supported, got {ref}")
        node: Any = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            node = self.lookup(node["$ref"])
        return node

    def errors(self, instance: Any, schema: dict[str, Any]) -> list[str]:
        found = sorted(self.root.evolve(schema=schema).iter_errors(instance), key=lambda e: list(e.path))
        return [f"{json_path(list(e.absolute_path))}: {e.message}" for e in found]

    def is_valid(self, instance: Any, schema: dict[str, Any]) -> bool:
        return self.root.evolve(schema=schema).is_valid(instance)

    def effective(self, instance: Any, schemas: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield every schema object that applies to `instance`.

        allOf parts all apply; of oneOf/anyOf only the branches the instance
        actually matches apply, so a field counts as declared only if the
        branch that accepted the body declares it.
        """
        for schema in schemas:
            if not isinstance(schema, dict):
                continue
            yield schema
            if "$ref" in schema:
                yield from self.effective(instance, [self.lookup(schema["$ref"])])
            yield from self.effective(instance, schema.get("allOf", []))
            for keyword in ("oneOf", "anyOf"):
                branches = schema.get(keyword, [])
                yield from self.effective(instance, [b for b in branches if self.is_valid(instance, b)])

    def undeclared(self, instance: Any, schemas: list[dict[str, Any]], path: list[Any]) -> Iterator[str]:
        """Yield the JSON path of every field in `instance` that no applicable schema declares."""
        if isinstance(instance, dict):
            applicable = list(self.effective(instance, schemas))
            maps = [s["additionalProperties"] for s in applicable if isinstance(s.get("additionalProperties"), dict)]
            # A free-form object (additionalProperties without properties) is
            # the spec saying "any key"; additionalProperties: true next to
            # declared properties is only tolerance, so those keys still count.
            free_form = any(
                s.get("additionalProperties") not in (None, False) and not s.get("properties") for s in applicable
            )
            for key, value in instance.items():
                if key == PLACEHOLDER_KEY:
                    continue
                children = [s["properties"][key] for s in applicable if key in s.get("properties", {})]
                if not children:
                    if not free_form and not maps:
                        yield f"{json_path(path + [key])}: field not declared by the schema"
                        continue
                    children = maps
                yield from self.undeclared(value, children, path + [key])
        elif isinstance(instance, list):
            items = [s["items"] for s in self.effective(instance, schemas) if isinstance(s.get("items"), dict)]
            for index, value in enumerate(instance):
                yield from self.undeclared(value, items, path + [index])


def json_path(parts: list[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def parse_index() -> list[dict[str, str]]:
    if not (EXAMPLES / "INDEX.md").is_file():
        return []
    """Read the example table of INDEX.md: file, method, path and status of each example."""
    rows = []
    for line in (EXAMPLES / "INDEX.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        # The claim-gated row lists sample paths in backticks inside the cell.
        file_name, method, path, status = (cell.replace("`", "") for cell in cells[:4])
        rows.append({"file": file_name, "method": method, "path": path, "status": status})
    return rows


def load_body(file_name: str) -> Any:
    text = (EXAMPLES / file_name).read_text(encoding="utf-8")
    if file_name.endswith(".form"):
        # A form body is a flat map of strings on the wire, which is what the
        # form schemas describe; repeated keys do not occur in the docs.
        return {key: values[-1] for key, values in urllib.parse.parse_qs(text.strip(), keep_blank_values=True).items()}
    return json.loads(text)


def is_shared_error_row(row: dict[str, str]) -> bool:
    # Rows that describe a body every endpoint may return rather than one operation.
    return row["path"].endswith("/*") or "claim-gated" in row["method"]


def media_schema(content: dict[str, Any] | None, media_type: str, where: str) -> dict[str, Any]:
    if not content or media_type not in content or "schema" not in content[media_type]:
        raise ExampleError(f"{where} has no {media_type} schema")
    return content[media_type]["schema"]


def schema_for(row: dict[str, str], checker: SchemaChecker) -> tuple[dict[str, Any], str]:
    """Find the schema an example must match; return it with a label for the report."""
    status = row["status"]
    is_request = status.startswith("request")
    code = None if is_request else re.match(r"\d{3}", status)
    if not is_request and code is None:
        raise ExampleError(f"cannot read a status from {status!r}")
    label = "request" if is_request else code.group(0)

    if is_shared_error_row(row):
        if is_request or code.group(0)[0] not in "45":
            raise ExampleError("a shared error row must have a 4xx/5xx status")
        scope = "claim-gated write" if "claim-gated" in row["method"] else row["path"]
        return {"$ref": ERROR_SCHEMA_REF}, f"ANY {scope} {label}"

    method = row["method"].lower()
    # INDEX paths may carry a sample query string; operations are keyed without it.
    path = row["path"].split("?", 1)[0]
    title = f"{row['method']} {path} {label}"
    operation = checker.spec["paths"].get(path, {}).get(method)
    if operation is None:
        raise ExampleError(f"no operation {row['method']} {path} in the spec")

    if is_request:
        if "requestBody" not in operation:
            raise ExampleError(f"{title}: operation has no requestBody")
        body = checker.deref(operation["requestBody"])
        media_type = FORM if row["file"].endswith(".form") else JSON
        return media_schema(body.get("content"), media_type, f"{title} requestBody"), title

    responses = operation.get("responses", {})
    # OpenAPI precedence: the exact code, then its range (4XX), then default.
    number = code.group(0)
    for key in (number, f"{number[0]}XX", "default"):
        if key in responses:
            response = checker.deref(responses[key])
            return media_schema(response.get("content"), JSON, f"{title} response {key}"), title
    raise ExampleError(f"{title}: no response {number}, {number[0]}XX or default")


def check_example(row: dict[str, str], checker: SchemaChecker) -> tuple[str, list[str]]:
    title = f"{row['method']} {row['path']} {row['status']}"
    try:
        schema, title = schema_for(row, checker)
        instance = load_body(row["file"])
    except (ExampleError, OSError, ValueError) as exc:
        return title, [str(exc)]
    problems = checker.errors(instance, schema)
    if not problems:
        # Only meaningful once the body validates: the walk follows the branches it matched.
        problems = list(checker.undeclared(instance, [schema], []))
    return title, problems


def main(argv: list[str] | None = None) -> int:
    global EXAMPLES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples-dir", type=Path, default=EXAMPLES, help="folder with INDEX.md and the bodies")
    EXAMPLES = parser.parse_args(argv).examples_dir.resolve()
    raw_spec = load_spec()
    spec_errors = check_spec_document(raw_spec)
    if spec_errors:
        print(f"FAIL  {SPEC_PATH.name}  OpenAPI 3.0 validation")
        for error in spec_errors:
            print(f"      {error}")
    else:
        print(f"ok  {SPEC_PATH.name}  OpenAPI {raw_spec.get('openapi')} document")

    checker = SchemaChecker(nullable_composites_as_any_of(copy.deepcopy(raw_spec)))
    index = parse_index()
    rows = [row for row in index if row["file"] not in NOT_API_BODIES]
    passed = failed = 0

    # A body in the folder that INDEX.md does not describe would go unchecked.
    listed = {row["file"] for row in index}
    files = sorted(EXAMPLES.iterdir()) if EXAMPLES.is_dir() else []
    for orphan in sorted(p.name for p in files if p.is_file() and p.name != "INDEX.md"):
        if orphan not in listed:
            print(f"FAIL  {orphan}  not listed in INDEX.md")
            failed += 1

    for row in rows:
        title, problems = check_example(row, checker)
        if problems:
            failed += 1
            print(f"FAIL  {row['file']}  {title}")
            for problem in problems:
                print(f"      {problem}")
        else:
            passed += 1
            print(f"ok  {row['file']}  {title}")

    print(f"{passed} passed, {failed} failed")
    if passed + failed == 0:
        print(f"FAIL  no example was checked: {EXAMPLES} has no INDEX.md rows")
        return 1
    return 1 if failed or spec_errors else 0


if __name__ == "__main__":
    sys.exit(main())
