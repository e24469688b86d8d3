"""The README holds: its commands parse, its example runs, its labels are napari's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

import napari_scanimage
from napari_scanimage.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_it_opens_with_a_user_install_and_the_ci_test_command():
    first, second = code_blocks("bash")[:2]
    assert first.strip() == 'python -m pip install ".[napari]" && napari-scanimage view --sample'
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = second.strip().split(" && ")[-1]
    assert test_command in ci
    assert 'pip install -q --disable-pip-version-check -e ".[test]"' in ci


def commands() -> list[str]:
    """Every `napari-scanimage ...` invocation in the README (code blocks and spans)."""
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    lines = "\n".join(code_blocks("bash")).replace("\\\n", " ").splitlines()
    found = []
    for line in [*lines, *spans]:
        for part in line.split("#")[0].split("&&"):
            part = part.strip()
            if part.startswith("napari-scanimage "):
                found.append(part)
    return found


@pytest.mark.parametrize("command", sorted(set(commands())))
def test_every_command_in_the_readme_parses(command):
    words = shlex.split(command.replace("[", "").replace("]", "").replace("...", ""))[1:]
    words = [w for w in words if w not in ("|", "head", "-1")]
    if words[:1] == ["--version"]:
        return
    parser = build_parser()
    args = parser.parse_args([w.replace("|", "") for w in words])
    assert args.command == words[0]


def test_the_menu_labels_are_naparis():
    manifest = yaml.safe_load(
        (Path(napari_scanimage.__file__).parent / "napari.yaml").read_text(encoding="utf-8")
    )
    label = manifest["contributions"]["sample_data"][0]["display_name"]
    assert f"*File > Open Sample > {manifest['display_name']} > {label}*" in README.replace(
        "\n  ", " "
    )
    widget = manifest["contributions"]["widgets"][0]["display_name"]
    assert f"*Plugins > {widget}*" in README


def test_the_python_example_runs(tmp_path, monkeypatch):
    from napari_scanimage.sample import write_sample_scan

    files = write_sample_scan(tmp_path / "data")
    (example,) = [b for b in code_blocks("python") if 'read_scan("/data/scan_00001_*.tif"' in b]
    example = example.replace("/data/scan_00001_*.tif", str(files[0]))
    example = example.replace("    ...\n", "    pass\n")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert (tmp_path / "scan.zarr").is_dir()
