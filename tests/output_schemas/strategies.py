"""Hypothesis strategies for the inputs of the tool's pure document builders: desired and
live state over every scope kind and app, value-ledger facts, variable facts, problems,
notices, targets and API cost. Names, sources and timestamps take the shapes the manifest
loader and GitHub's responses allow (live names: any non-empty text without control
characters, as `github.responses.Json.name` admits)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from reconciler.diff import ValueFacts, VariableFacts
from reconciler.ledger.format import Entry, Ledger, entry_key
from reconciler.model import (
    VARIABLE_APPS,
    AgeSource,
    ApiCost,
    App,
    AwsSource,
    CommandSource,
    DesiredGroup,
    DesiredItem,
    DriftPolicy,
    EnvSource,
    FileSource,
    InlineSource,
    Kind,
    LiveGroup,
    LiveItem,
    LiveState,
    Location,
    Scope,
    ScopeKind,
    SealedSource,
    Source,
    Visibility,
)
from reconciler.plan import ApplyProblem, ProblemKind
from reconciler.targets import parse_target

LOC = Location("secrets/m.yaml", 3, 7)
SCOPES = (
    Scope(ScopeKind.ORG, "octo-org"),
    Scope(ScopeKind.ORG, "Other-Org2"),
    Scope(ScopeKind.REPO, "octo-org/web"),
    Scope(ScopeKind.REPO, "Other-Org2/Web.site_2"),
    Scope.of_environment("octo-org/web", "production"),
    Scope.of_environment("Other-Org2/Web.site_2", "Review/PR-1 é"),
)
GROUPS = [(s, a) for s in SCOPES for a in App if s.kind is not ScopeKind.ENVIRONMENT]
GROUPS += [(s, App.ACTIONS) for s in SCOPES if s.kind is ScopeKind.ENVIRONMENT]

texts = st.text(min_size=1, max_size=10)
hex16 = st.text("0123456789abcdef", min_size=16, max_size=16)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
timestamps = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
)
names = st.sampled_from(["A", "NPM_TOKEN", "URL"]) | st.from_regex(
    r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True
)
_CONTROL = [chr(c) for c in range(32)] + ["\x7f"]
live_names = names | st.text(
    st.characters(codec="utf-8", exclude_characters=_CONTROL), min_size=1, max_size=8
)
repo_names = st.sampled_from(["web", "API", "docs"]) | st.from_regex(
    r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,8}", fullmatch=True
)
fingerprints = hex64.map(lambda h: f"hmac-sha256:{h}")
digests = hex64.map(lambda h: f"sha256:{h}")
versions = st.builds(
    lambda kind, h: f"{kind}:{h}", st.sampled_from(["sealed", "age"]), hex64
) | texts.map(lambda t: f"aws:{t}")

variable_sources: st.SearchStrategy[Source] = st.one_of(
    texts.map(lambda t: InlineSource(t, LOC)),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).map(lambda v: EnvSource(v, LOC)),
    texts.map(lambda p: FileSource(p, ".", LOC)),
    st.builds(
        lambda p, k: AgeSource(p, k, ".", LOC),
        texts,
        st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}", fullmatch=True),
    ),
    st.builds(
        lambda i, j, stage: AwsSource(i, LOC, j, stage),
        st.from_regex(r"[A-Za-z0-9/_+=.@-]{1,20}", fullmatch=True),
        st.none() | texts,
        st.none() | texts,
    ),
    st.lists(texts, min_size=1, max_size=3).map(lambda argv: CommandSource(tuple(argv), LOC)),
)
secret_sources = variable_sources.filter(lambda s: not isinstance(s, InlineSource)) | st.builds(
    lambda c, k: SealedSource(c, k, LOC), texts, texts
)


@st.composite
def desired_groups(draw: st.DrawFn, scope: Scope, app: App) -> DesiredGroup:
    allowed = [Kind.SECRET, Kind.VARIABLE] if app in VARIABLE_APPS else [Kind.SECRET]
    kinds = draw(st.lists(st.sampled_from(allowed), min_size=1, unique=True))
    items: list[DesiredItem] = []
    for kind in kinds:
        for name in draw(st.lists(names, unique=True, max_size=3)):
            source = draw(secret_sources if kind is Kind.SECRET else variable_sources)
            org = scope.kind is ScopeKind.ORG
            visibility = draw(st.sampled_from(Visibility)) if org else None
            repos = None
            if visibility is Visibility.SELECTED:
                repos = tuple(draw(st.lists(repo_names, unique_by=str.lower, max_size=3)))
            where = tuple(LOC for _ in repos or ())
            item = DesiredItem(scope, app, name, source, LOC, visibility, repos, where, kind)
            items.append(item)
    return DesiredGroup(scope, app, draw(st.booleans()), tuple(items), LOC, frozenset(kinds))


variable_values = st.sampled_from(["", "x", "é"]) | st.text(max_size=8)


@st.composite
def sharing(
    draw: st.DrawFn, scope: Scope, item: DesiredItem | None
) -> tuple[Visibility | None, frozenset[str] | None]:
    """A live item's visibility and selection: often the manifest's, or near it."""
    if scope.kind is not ScopeKind.ORG:
        return None, None
    if item is not None and draw(st.booleans()):
        visibility = item.visibility
        near = [r.lower() for r in item.repositories or ()]
        near = near[1:] + draw(st.lists(repo_names.map(str.lower), max_size=1))
    else:
        visibility = draw(st.sampled_from((None, *Visibility, Visibility.SELECTED)))
        near = draw(st.lists(st.one_of(repo_names, repo_names, live_names).map(str.lower)))
    return visibility, frozenset(near) if visibility is Visibility.SELECTED else None


@st.composite
def live_groups(
    draw: st.DrawFn, scope: Scope, app: App, wanted: tuple[DesiredItem, ...] = ()
) -> LiveGroup:
    """Live items of a group: most of the manifest's `wanted` items, and a few others."""
    kinds = [Kind.SECRET, Kind.VARIABLE] if app in VARIABLE_APPS else [Kind.SECRET]
    pairs: list[tuple[Kind, str, DesiredItem | None]]
    pairs = [(i.kind, i.name, i) for i in wanted if draw(st.integers(0, 3))]
    others = st.tuples(st.sampled_from(kinds), live_names, st.none())
    pairs += draw(st.lists(others, max_size=2, unique_by=lambda p: (p[0], p[1].upper())))
    items: dict[tuple[Kind, str], LiveItem] = {}
    for kind, name, item in pairs:
        visibility, selected = draw(sharing(scope, item))
        value = draw(variable_values) if kind is Kind.VARIABLE else None
        updated_at = draw(timestamps)
        items[(kind, name.upper())] = LiveItem(name, updated_at, visibility, selected, kind, value)
    return LiveGroup(scope, app, tuple(items.values()))


@st.composite
def estates(draw: st.DrawFn) -> tuple[tuple[DesiredGroup, ...], LiveState]:
    wanted = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=5, unique=True))
    desired = tuple(draw(desired_groups(s, a)) for s, a in wanted)
    held = [
        draw(live_groups(g.scope, g.app, g.items))
        for g in desired
        if draw(st.integers(0, 3))  # mostly: the manifest's groups exist on GitHub
    ]
    others = draw(st.lists(st.sampled_from([g for g in GROUPS if g not in wanted]), unique=True))
    held += [draw(live_groups(s, a)) for s, a in others[:2]]
    environments = {s for s in SCOPES if s.kind is ScopeKind.ENVIRONMENT}
    existing = frozenset(draw(st.sets(st.sampled_from(sorted(environments)))))
    return desired, LiveState(tuple(held), environments=existing)


@st.composite
def value_facts(
    draw: st.DrawFn, desired: tuple[DesiredGroup, ...], live: LiveState
) -> ValueFacts | None:
    """What the ledger and a key know; None: planning without a ledger. Entries mostly agree
    with live state and the sources (so values are known equal, or rotated), else differ."""
    if not draw(st.integers(0, 3)):
        return None
    keyed = draw(st.integers(0, 3)) > 0
    entries: dict[tuple[str, str, str, str], Entry] = {}
    prints: dict[tuple[str, str, str, str], str] = {}
    found: dict[tuple[str, str, str, str], str] = {}
    for g in desired:
        held = live.group(g.scope, g.app).by_name()
        for s in (i for i in g.items if i.kind is Kind.SECRET):
            k = entry_key(s.scope, s.app, s.name)
            current = held.get(s.name)
            fingerprint = draw(fingerprints) if keyed else None
            version = draw(versions) if draw(st.integers(0, 3)) else None
            if draw(st.integers(0, 3)):
                same = current is not None and draw(st.integers(0, 3)) > 0
                when = current.updated_at if current is not None and same else draw(timestamps)
                source = s.source if draw(st.integers(0, 3)) else draw(secret_sources)
                org = s.scope.kind is ScopeKind.ORG
                selection = draw(digests) if org and draw(st.booleans()) else None
                entries[k] = Entry(when, fingerprint, source.describe(), version, selection)
            if keyed and draw(st.integers(0, 3)):
                equal = fingerprint is not None and draw(st.integers(0, 3)) > 0
                prints[k] = fingerprint if fingerprint is not None and equal else draw(fingerprints)
            if draw(st.booleans()):
                found[k] = (
                    version if version is not None and draw(st.booleans()) else draw(versions)
                )
    ledger = Ledger(entries, draw(hex16) if keyed else None)
    return ValueFacts(ledger, prints, draw(st.sampled_from(DriftPolicy)), found)


@st.composite
def variable_facts(draw: st.DrawFn, desired: tuple[DesiredGroup, ...]) -> VariableFacts:
    variables = [s for g in desired for s in g.items if s.kind is Kind.VARIABLE]
    values = {
        (s.scope, s.app, s.name): draw(variable_values)
        for s in variables
        if draw(st.booleans())  # the others' sources cannot be read
    }
    return VariableFacts(values, show=draw(st.booleans()), read=draw(st.booleans()))


problems = st.lists(
    st.builds(
        ApplyProblem,
        st.sampled_from(ProblemKind),
        texts,
        texts,
        st.text(max_size=8),
        st.just("") | st.just(str(LOC)),
    ),
    max_size=3,
)
notices = st.lists(texts, max_size=2).map(tuple)
manifests = st.lists(st.text(max_size=10), min_size=1, max_size=2).map(tuple)
allow_env = st.lists(texts, max_size=2).map(tuple)
targets = st.lists(
    st.builds(
        lambda scope, rest: parse_target(scope + rest).text,
        st.sampled_from(["octo-org", "octo-org/*", "Octo-Org/web/Prod*", "*"]),
        st.sampled_from(["", ":*", ":actions", ":Dependabot", ":*:NPM_*", ":agents:x", ":*:*"]),
    ),
    max_size=2,
).map(tuple)
costs = st.builds(
    lambda made, cached, remaining: ApiCost(made + cached, cached, remaining, 5000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.none() | st.integers(0, 5000),
)
