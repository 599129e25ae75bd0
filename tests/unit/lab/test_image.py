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


def test_a_build_that_outlasts_its_limit_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    """A slow build (an emulated VM) ends in a LabError naming the limit and how to raise it, not a traceback;
    nothing half-built is taken for the image."""
    import pytest

    from runner.errors import LabError

    recipe = tmp_path / "build-image.sh"
    recipe.write_text("sleep 30\n")
    monkeypatch.setattr(image, "RECIPE", recipe)
    monkeypatch.setenv("SOP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SOP_LAB_IMAGE_TIMEOUT", "1")
    monkeypatch.setattr(image.podman, "exists", lambda *args: False)
    with pytest.raises(LabError, match=r"did not finish in 1 s") as caught:
        image.ensure_image(progress=lambda _msg: None)
    assert "SOP_LAB_IMAGE_TIMEOUT" in str(caught.value)
    assert not list((tmp_path / "cache").glob("*.tar"))
    monkeypatch.setenv("SOP_LAB_IMAGE_TIMEOUT", "soon")
    with pytest.raises(LabError, match="not a number of seconds"):
        image.build_timeout()
