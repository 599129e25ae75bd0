"""Image recipe hashing and mirror detection."""

from __future__ import annotations

from pathlib import Path

from runner.lab import image


def test_mirror_from_one_line_sources(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n")
    assert image.debian_mirror((sources,)) == "http://mirror.example/debian"


def test_mirror_from_deb822_sources(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text("Types: deb\nURIs: http://deb.example.org/debian\nSuites: bookworm\n")
    assert image.debian_mirror((sources,)) == "http://deb.example.org/debian"


def test_mirror_falls_back_to_debian(tmp_path: Path) -> None:
    assert image.debian_mirror((tmp_path / "missing",)) == image.DEFAULT_MIRROR


def test_image_tag_follows_the_recipe(tmp_path: Path, monkeypatch) -> None:
    recipe = tmp_path / "build-image.sh"
    recipe.write_text("echo one\n")
    monkeypatch.setattr(image, "RECIPE", recipe)
    first = image.image_ref()
    recipe.write_text("echo two\n")
    assert image.image_ref() != first
    assert first.startswith("localhost/sop-lab-debian12:")
