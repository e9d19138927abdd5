"""A DesiredState as manifest YAML: for round-trip tests and `reconciler import`."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.model import (
    DesiredItem,
    DesiredState,
    EnvSource,
    FileSource,
    ScopeKind,
    SealedSource,
    Visibility,
)


class _Flow(dict[str, Any]):
    """Written inline (`{env: NPM_TOKEN}`): short sources read best on one line."""


class _FlowList(list[str]):
    """Written inline (`[web, api]`)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def dump_manifest(desired: DesiredState) -> str:
    """YAML text that `load_manifests` reads back as the same desired state.

    File sources keep their path as written, relative to the manifest they came from.
    """
    doc: dict[str, Any] = {"version": 1}
    if desired.settings.allow_env:
        doc["settings"] = {"allow_env": _FlowList(desired.settings.allow_env)}
    if desired.settings.drift:
        doc.setdefault("settings", {})["drift"] = desired.settings.drift.value
    # One key per scope, spelled as first seen: two spellings would collide on reading.
    spelling: dict[tuple[ScopeKind, str], str] = {}
    for group in desired.groups:
        top = doc.setdefault("orgs" if group.scope.kind is ScopeKind.ORG else "repos", {})
        name = spelling.setdefault((group.scope.kind, group.scope.name.lower()), group.scope.name)
        body: dict[str, Any] = {}
        if group.prune:
            body["prune"] = True
        body["secrets"] = {s.name: _secret(s) for s in group.items}
        top.setdefault(name, {})[group.app.value] = body
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return str(text)


def _secret(secret: DesiredItem) -> dict[str, Any]:
    source = secret.source
    value: _Flow
    if isinstance(source, EnvSource):
        value = _Flow(env=source.var)
    elif isinstance(source, FileSource):
        value = _Flow(file=source.path)
    else:
        assert isinstance(source, SealedSource)
        value = _Flow(sealed=source.ciphertext, key_id=source.key_id)
    out: dict[str, Any] = {"value": value}
    if secret.visibility is not None:
        out["visibility"] = secret.visibility.value
    if secret.visibility is Visibility.SELECTED:
        out["repositories"] = _FlowList(secret.repositories or ())
    return out
