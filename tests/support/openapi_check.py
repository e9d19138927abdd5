"""The independent referee: check recorded sandbox exchanges against GitHub's OpenAPI file.

`check_exchanges(exchanges) -> list[str]` validates, with openapi-core:

- every response: status code documented for the operation, body and headers per schema;
- every request the sandbox accepted (2xx/304): path, query and body per schema.

Operations the trimmed description does not have (contents, branches, git refs, issue
comments, `GET /repos/{owner}/{repo}/installation`) are skipped, except that their error
bodies must still be GitHub's generic error shapes.

Error statuses GitHub sends without documenting them per operation (401, 403, 404, 422,
5xx on most secrets endpoints) are checked against GitHub's generic error schemas
(`basic-error`, and `validation-error` for 422) and must carry `"status"` as a string
equal to the HTTP status. A 304 must have an empty body.

Requests sent with `X-GitHub-Api-Version: 2026-03-10` are checked against the same file
with its `x-github-breaking-changes` for that version applied (e.g. the Dependabot org
PUT no longer takes string repository ids, `GET /rate_limit` drops `rate`).

The description is vendored in `tests/openapi/` (provenance in its README.md); a missing
file is an error, never a skipped check.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from reconciler.sandbox import Exchange, Sandbox
from tests.support.paths import OPENAPI

SPEC_FILE = OPENAPI / "api.github.com.secrets-variables.json"
SPEC_SERVER = "https://api.github.com"
BASE_VERSION = "2022-11-28"
PATCHED_VERSION = "2026-03-10"
GHES_PREFIX = "/api/v3"
_SLASHED_PARAMETER = re.compile(r"(/repos/[^/]+/[^/]+/(?:contents|git/ref)/)(.+)")


@functools.cache
def _raw_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return data


def _pointer(doc: Any, pointer: str) -> tuple[Any, str | int]:
    """The parent of what `pointer` (RFC 6901) names, and its key (an index in a list)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    last = parts[-1]
    if isinstance(doc, list):
        return doc, len(doc) if last == "-" else int(last)
    return doc, last


def _json_patch(target: Any, ops: Sequence[dict[str, Any]]) -> None:
    # RFC 6902, the three operations GitHub's patches use. A pointer that does not resolve
    # raises: a patch that silently misses would check against the wrong description.
    for op in ops:
        parent, key = _pointer(target, op["path"])
        if op["op"] == "add" and isinstance(parent, list):
            parent.insert(int(key), copy.deepcopy(op["value"]))
        elif op["op"] == "add":
            parent[key] = copy.deepcopy(op["value"])
        elif op["op"] == "replace":
            if isinstance(parent, dict) and key not in parent:
                raise KeyError(f"nothing to replace at {op['path']}")
            parent[key] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            del parent[key]
        else:
            raise ValueError(f"unsupported JSON patch operation {op['op']!r}")


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    # RFC 7386: null deletes, objects merge, anything else replaces.
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _apply_breaking_changes(node: Any, version: str) -> None:
    """Apply, anywhere in `node`, the `x-github-breaking-changes` for `version`.

    GitHub attaches them to operations, schemas and examples alike, and writes a patch
    either as an RFC 6902 list (whose pointers may reach into an example's `value`) or as
    an RFC 7386 merge object (e.g. the contents GET); both forms are handled.
    """
    if isinstance(node, list):
        for item in node:
            _apply_breaking_changes(item, version)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _apply_breaking_changes(value, version)
    for change in node.get("x-github-breaking-changes", []):
        if change["version"] != version:
            continue
        patch = change["patch"]
        if isinstance(patch, list):
            _json_patch(node, patch)
        else:
            _merge_patch(node, patch)


def _read_as_github_means(spec: dict[str, Any]) -> None:
    """Two constructs of GitHub's description that no validator can read as written.

    - The contents GET discriminates its `oneOf` on `type` and maps the value `array` to the
      directory listing, which is an array and so has no property to discriminate on: a
      validator that follows the discriminator refuses every directory listing. It becomes
      `oneOf: [<the array schema>, <the object branches, discriminated as written>]`.
    - The contents PUT's 409 is `oneOf: [basic-error, repository-rule-violation-error]`, two
      objects with no required property, so every error body GitHub sends (`message`,
      `documentation_url`, `status`) matches both and `oneOf` refuses it. Where every branch
      of a plain `oneOf` is such an object, it is read as `anyOf`: the body must still match
      one of them (an object whose properties have the declared types).
    """
    schemas = spec["components"]["schemas"]

    def resolve(branch: dict[str, Any]) -> dict[str, Any]:
        ref = branch.get("$ref", "")
        name = ref.removeprefix("#/components/schemas/")
        schema: dict[str, Any] = schemas[name] if ref != name else branch
        return schema

    def overlapping(branches: list[dict[str, Any]]) -> bool:
        return all(
            resolve(b).get("type") == "object" and not resolve(b).get("required") for b in branches
        )

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        for value in node.values():
            visit(value)
        mapping = node.get("discriminator", {}).get("mapping", {})
        if "oneOf" in node and "array" in mapping:
            array_ref = mapping["array"]
            objects = [branch for branch in node["oneOf"] if branch.get("$ref") != array_ref]
            rest = {k: v for k, v in mapping.items() if k != "array"}
            node["oneOf"] = [
                {"$ref": array_ref},
                {"oneOf": objects, "discriminator": {**node["discriminator"], "mapping": rest}},
            ]
            del node["discriminator"]
        elif "oneOf" in node and "discriminator" not in node and overlapping(node["oneOf"]):
            node["anyOf"] = node.pop("oneOf")

    visit(spec["paths"])


def versioned_spec(version: str) -> dict[str, Any]:
    """The description as it reads under `version` (breaking changes applied)."""
    spec = copy.deepcopy(_raw_spec())
    if version != BASE_VERSION:
        _apply_breaking_changes(spec, version)
    _read_as_github_means(spec)
    return spec


@functools.cache
def _openapi(version: str) -> OpenAPI:
    # Built once per process: other test modules create many sandboxes.
    return OpenAPI.from_dict(versioned_spec(version), config=Config(spec_validator_cls=None))


@functools.cache
def _error_validator(name: str) -> OAS30Validator:
    return OAS30Validator(_raw_spec()["components"]["schemas"][name])


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def _request(ex: Exchange) -> MockRequest:
    split = urlsplit(ex.url)
    path = split.path
    if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
        path = path[len(GHES_PREFIX) :] or "/"
    # The last parameter of the contents and git ref endpoints spans slashes (`{path}` as in
    # `ledger/values.json`, `{ref}` as in `heads/main`); openapi-core's templates match one
    # segment, so its slashes are escaped for the match.
    spanning = _SLASHED_PARAMETER.match(path)
    if spanning:
        path = spanning[1] + spanning[2].replace("/", "%2F")
    content_type = _header(ex.request_headers, "Content-Type") or "application/json"
    return MockRequest(
        SPEC_SERVER,
        ex.method.lower(),
        path,
        # Pairs, so a repeated key keeps every value: MockRequest builds its MultiDict from them,
        # though its annotation says dict.
        args=parse_qsl(split.query, keep_blank_values=True),  # type: ignore[arg-type]
        headers=dict(ex.request_headers),
        data=ex.request_body or None,
        content_type=content_type.split(";")[0],
    )


def _response(ex: Exchange) -> MockResponse:
    content_type = _header(ex.response_headers, "Content-Type") or "application/json"
    return MockResponse(
        ex.response_body,
        status_code=ex.status,
        headers=dict(ex.response_headers),
        content_type=content_type.split(";")[0],
    )


def _describe(error: BaseException) -> str:
    details = [str(error)]
    cause = error.__cause__
    for schema_error in getattr(cause, "schema_errors", ()) or ():
        where = "/".join(str(p) for p in schema_error.absolute_path)
        details.append(f"  at {where or '<root>'}: {schema_error.message}")
    return "\n".join(details)


def _check_undocumented_error(ex: Exchange) -> list[str]:
    if ex.status < 400:
        return [f"status {ex.status} is not documented for this operation"]
    try:
        body = json.loads(ex.response_body)
    except ValueError:
        return [f"error {ex.status} without a JSON body"]
    schema = "validation-error" if ex.status == 422 else "basic-error"
    problems = [
        f"error body is not a {schema}: {e.message}"
        for e in _error_validator(schema).iter_errors(body)
    ]
    if isinstance(body, dict):
        if not body.get("message"):
            problems.append("error body has no message")
        if body.get("status") != str(ex.status):
            problems.append(f'error body "status" is {body.get("status")!r}, not "{ex.status}"')
    return problems


def check_exchange(ex: Exchange) -> list[str]:
    if ex.status == 0:  # a dropped connection has no response to judge
        return []
    version = _header(ex.request_headers, "X-GitHub-Api-Version")
    api = _openapi(PATCHED_VERSION if version == PATCHED_VERSION else BASE_VERSION)
    request = _request(ex)
    problems: list[str] = []
    if ex.status == 304 and ex.response_body:
        problems.append("304 with a body")
    try:
        api.validate_response(request, _response(ex))
    except PathError:
        # An operation the (trimmed) description does not have, e.g. the contents or
        # comments endpoints: nothing to check a success against; an error body must
        # still be one of GitHub's generic error shapes.
        if ex.status >= 400:
            problems.extend(_check_undocumented_error(ex))
        return [f"{ex.method} {ex.url} -> {ex.status}: {p}" for p in problems]
    except ResponseNotFound:
        if ex.status != 304:
            problems.extend(_check_undocumented_error(ex))
    except Exception as e:  # openapi-core's validation errors share no narrower base
        problems.append(f"response: {_describe(e)}")
    if 200 <= ex.status < 300 or ex.status == 304:
        try:
            api.validate_request(request)
        except Exception as e:
            problems.append(f"request: {_describe(e)}")
    return [f"{ex.method} {ex.url} -> {ex.status}: {p}" for p in problems]


def check_exchanges(exchanges: Iterable[Exchange]) -> list[str]:
    """Every mismatch between the exchanges and GitHub's description; empty when clean."""
    return [problem for ex in exchanges for problem in check_exchange(ex)]


def sandbox_problems(sb: Sandbox) -> list[str]:
    """A stopped sandbox's verdict: its internal errors and its non-conforming exchanges."""
    problems = [f"sandbox internal error:\n{tb}" for tb in sb.errors]
    problems.extend(check_exchanges(sb.exchanges))
    return problems
