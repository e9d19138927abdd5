"""A DesiredState as manifest YAML: for round-trip tests and `reconciler import`."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.model import (
    AgeSource,
    AwsSource,
    CommandSource,
    DesiredGroup,
    DesiredItem,
    DesiredState,
    EnvSource,
    FileSource,
    InlineSource,
    Kind,
    ScopeKind,
    SealedSource,
    Source,
    Visibility,
)


class _Flow(dict[str, Any]):
    """Written inline (`{env: NPM_TOKEN}`): short sources read best on one line."""


class _FlowList(list[str]):
    """Written inline (`[web, api]`)."""


class _Dumper(yaml.SafeDumper):
    pass


# YAML counts these as line breaks; PyYAML folds them away inside single-quoted text, so a
# value holding one is written double-quoted, where they are escapes (\N, \L, \P).
_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if _BREAKS.intersection(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def dump_manifest(desired: DesiredState) -> str:
    """YAML text that `load_manifests` reads back as the same desired state.

    File sources keep their path as written, relative to the manifest they came from.
    Variables with inline values are written as their text (quoted where YAML would read
    it as something else).
    """
    doc: dict[str, Any] = {"version": 1}
    if desired.settings.allow_env:
        doc["settings"] = {"allow_env": _FlowList(desired.settings.allow_env)}
    if desired.settings.drift:
        doc.setdefault("settings", {})["drift"] = desired.settings.drift.value
    # One key per scope (and per environment), spelled as first seen: two spellings of one
    # name would collide on reading.
    spelling: dict[tuple[ScopeKind, str], str] = {}
    environments: dict[tuple[str, str], str] = {}
    for group in desired.groups:
        scope = group.scope
        top_kind = ScopeKind.ORG if scope.kind is ScopeKind.ORG else ScopeKind.REPO
        top = doc.setdefault("orgs" if top_kind is ScopeKind.ORG else "repos", {})
        name = spelling.setdefault((top_kind, scope.name.lower()), scope.name)
        entry = top.setdefault(name, {})
        if scope.kind is ScopeKind.ENVIRONMENT:
            env = environments.setdefault(
                (name.lower(), scope.environment.lower()), scope.environment
            )
            entry.setdefault("environments", {})[env] = _group(group)
        else:
            entry[group.app.value] = _group(group)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return str(text)


def _group(group: DesiredGroup) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if group.prune:
        body["prune"] = True
    secrets = [i for i in group.items if i.kind is Kind.SECRET]
    variables = [i for i in group.items if i.kind is Kind.VARIABLE]
    if secrets or not variables:
        body["secrets"] = {s.name: _item(s) for s in secrets}  # `{}` for an empty group
    if variables:
        body["variables"] = {v.name: _item(v) for v in variables}
    return body


def _item(item: DesiredItem) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _value(item.source)}
    if item.visibility is not None:
        out["visibility"] = item.visibility.value
    if item.visibility is Visibility.SELECTED:
        out["repositories"] = _FlowList(item.repositories or ())
    return out


def _value(source: Source) -> _Flow | str:
    if isinstance(source, InlineSource):
        return source.text
    if isinstance(source, EnvSource):
        return _Flow(env=source.var)
    if isinstance(source, FileSource):
        return _Flow(file=source.path)
    if isinstance(source, SealedSource):
        return _Flow(sealed=source.ciphertext, key_id=source.key_id)
    if isinstance(source, AgeSource):
        return _Flow(age=source.path, key=source.key)
    if isinstance(source, AwsSource):
        value = _Flow(aws=source.secret_id)
        for key in ("json_key", "version_stage", "version_id", "region"):
            if getattr(source, key) is not None:
                value[key] = getattr(source, key)
        return value
    value = _Flow(command=_FlowList(source.argv))
    if source.timeout != CommandSource((), source.location).timeout:  # not the default
        # 20.0 reads back the same as 20; a whole number is written the way a person would.
        timeout = source.timeout
        value["timeout"] = int(timeout) if timeout.is_integer() else timeout
    return value
