"""`reconciler schema`: the published schemas, byte for byte, at their stable URLs."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from reconciler import __version__, schema_files
from tests.support.e2e import run
from tests.support.paths import REPO_ROOT


@pytest.mark.parametrize("name", sorted(schema_files.FILES))
def test_prints_the_published_schema_and_its_url(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    published = REPO_ROOT / "schemas" / schema_files.FILES[name]
    printed = run(capsys, ["schema", name])
    assert printed.code == 0, printed.err
    assert printed.out == published.read_text("utf-8")
    url = run(capsys, ["schema", name, "--url"])
    assert url.out.strip() == json.loads(published.read_text("utf-8"))["$id"]
    assert url.out.strip().endswith(f"/v{__version__}/schemas/{published.name}")


def test_every_published_schema_is_offered() -> None:
    published = {p.name for p in (REPO_ROOT / "schemas").glob("*.schema.json")}
    assert published == set(schema_files.FILES.values())


def test_writes_next_to_manifests_and_refreshes_its_own_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secrets").mkdir()
    first = run(capsys, ["schema", "--out", "secrets/"])
    assert first.code == 0, first.err
    written = tmp_path / "secrets" / "manifest.schema.json"
    assert written.read_bytes() == (REPO_ROOT / "schemas" / "manifest.schema.json").read_bytes()
    assert "# yaml-language-server: $schema=manifest.schema.json" in first.out
    # An older copy of ours (another release's $id) is refreshed without --force.
    old = json.loads(written.read_text("utf-8"))
    old["$id"] = schema_files.url("manifest", "0.0.1")
    written.write_text(json.dumps(old), "utf-8")
    again = run(capsys, ["schema", "--out", "secrets/manifest.schema.json"])
    assert again.code == 0, again.err
    assert json.loads(written.read_text("utf-8"))["$id"] == schema_files.url("manifest")


@pytest.mark.parametrize("content", ["version: 1\norgs: {}\n", '{"$id": "https://x.test/s"}'])
def test_never_overwrites_a_file_that_is_not_its_schema_without_force(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "octo-org.yaml"
    target.write_text(content, "utf-8")
    refused = run(capsys, ["schema", "--out", str(target)])
    assert refused.code == 64
    assert "already exists" in refused.err and "--force" in refused.err
    assert target.read_text("utf-8") == content
    forced = run(capsys, ["schema", "--out", str(target), "--force"])
    assert forced.code == 0, forced.err
    assert json.loads(target.read_text("utf-8"))["$id"] == schema_files.url("manifest")


def test_an_unwritable_out_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, ["schema", "--out", str(tmp_path / "missing" / "s.json")])
    assert result.code == 64
    assert "--out" in result.err and "Traceback" not in result.err


def test_the_schema_beside_manifests_is_not_taken_for_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "repos.yaml").write_text(
        "# yaml-language-server: $schema=manifest.schema.json\n"
        + (REPO_ROOT / "examples" / "repos.reconciler.yaml").read_text("utf-8").split("\n", 1)[1],
        "utf-8",
    )
    assert run(capsys, ["schema", "--out", str(tmp_path)]).code == 0
    validated = run(capsys, ["validate", str(tmp_path)])
    assert validated.code == 0, validated.err
    assert "1 manifest files" in validated.out


def test_the_schemastore_entry_names_this_release_and_matches_the_examples() -> None:
    """schemas/schemastore-catalog.json is the entry SchemaStore's catalog.json takes as is."""
    entry = json.loads((REPO_ROOT / "schemas" / "schemastore-catalog.json").read_text("utf-8"))
    assert set(entry) == {"name", "description", "fileMatch", "url", "versions"}
    assert entry["url"] == schema_files.url("manifest")
    assert entry["versions"][__version__] == entry["url"]
    examples = REPO_ROOT / "examples"
    manifests = sorted(p.name for p in examples.rglob("*.y*ml") if "workflows" not in p.parts)
    assert manifests, "no example manifests"
    for name in manifests:
        assert any(fnmatch.fnmatch(name, glob) for glob in entry["fileMatch"]), name
    for other in (examples / "workflows").iterdir():
        assert not any(fnmatch.fnmatch(other.name, glob) for glob in entry["fileMatch"])
