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

The spec lives beside the repository: `<repo>/../shared/github-openapi`.
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from reconciler.sandbox import Exchange, Sandbox

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "github-openapi"
SPEC_FILE = SPEC_DIR / "api.github.com.secrets.json"
SPEC_SERVER = "https://api.github.com"
BASE_VERSION = "2022-11-28"
PATCHED_VERSION = "2026-03-10"
GHES_PREFIX = "/api/v3"
_METHODS = ("get", "put", "post", "delete", "patch")


def spec_available() -> bool:
    return SPEC_FILE.is_file()


@functools.cache
def _raw_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return data


def _pointer(doc: Any, pointer: str) -> tuple[Any, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc, parts[-1]


def _json_patch(target: dict[str, Any], ops: Sequence[dict[str, Any]]) -> None:
    for op in ops:
        parent, key = _pointer(target, op["path"])
        if op["op"] in ("replace", "add"):
            parent[key] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            parent.pop(key, None)


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    # RFC 7386: null deletes, objects merge, anything else replaces.
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def versioned_spec(version: str) -> dict[str, Any]:
    """The description as it reads under `version` (breaking changes applied)."""
    spec = copy.deepcopy(_raw_spec())
    if version == BASE_VERSION:
        return spec
    for item in spec["paths"].values():
        for method in _METHODS:
            op = item.get(method)
            for change in (op or {}).get("x-github-breaking-changes", []):
                if change["version"] == version:
                    _json_patch(op, change["patch"])
    for schema in spec["components"]["schemas"].values():
        for change in schema.get("x-github-breaking-changes", []):
            if change["version"] == version and isinstance(change["patch"], dict):
                _merge_patch(schema, change["patch"])
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
    content_type = _header(ex.request_headers, "Content-Type") or "application/json"
    return MockRequest(
        SPEC_SERVER,
        ex.method.lower(),
        path,
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


class ConformanceSkipped(UserWarning):
    """GitHub's OpenAPI file is missing, so exchanges were not checked."""


def sandbox_problems(sb: Sandbox) -> list[str]:
    """A stopped sandbox's verdict: its internal errors and its non-conforming exchanges."""
    problems = [f"sandbox internal error:\n{tb}" for tb in sb.errors]
    if spec_available():
        problems.extend(check_exchanges(sb.exchanges))
    else:
        warnings.warn(
            f"OpenAPI conformance not checked: {SPEC_FILE} is missing",
            ConformanceSkipped,
            stacklevel=1,
        )
    return problems
