"""The CI recipes in docs/ci/ parse, and every ocidiff command they contain runs against fixtures.

How a recipe is run here (the substitution):
- The shell steps are read from the YAML (GitHub `steps[].run`, GitLab `script` and
  `before_script`, CodeBuild `phases.*.commands`). Only two kinds of line are executed: ocidiff
  commands (also as `VAR=$(ocidiff ...)`), and plain `VAR=value` assignments; docker, git, pip,
  aws and skopeo lines are the build and the push, which do not run here.
- The workspace is the gate fixture's build context (fixtures/gates, written with exact modes),
  and the files the build steps would leave in ocidiff-out/ are copied from fixtures: every
  `*.tar` the recipe names there is app-fresh.tar (the image built from this very context), or
  app-stale.tar for the failing run.
- CI variables are set from `CI_VARIABLES`; an unknown variable fails the test, so the recipes
  and this table stay in step. `> FILE` and `>> FILE` write the command's stdout to FILE.
- Each command runs in-process through the CLI. With the fresh image every command must exit 0;
  with the stale one, the gates (verify-tree, ledger check) must exit 1, and nothing may exit 2.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .gates.samples import GATES, NEW_COMMIT, cli, make_context

yaml = pytest.importorskip("yaml")

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "ci"
CI_VARIABLES = {
    "GITHUB_SHA": NEW_COMMIT,
    "GITHUB_STEP_SUMMARY": "ocidiff-out/step-summary.md",
    "CI_COMMIT_SHA": NEW_COMMIT,
    "CODEBUILD_RESOLVED_SOURCE_VERSION": NEW_COMMIT,
    "CODEBUILD_BUILD_SUCCEEDING": "1",
}
_ASSIGNMENT = re.compile(r"^(?:export\s+)?(\w+)=(.*)$")
_SUBSTITUTION = re.compile(r'^"?\$\((ocidiff\s.*)\)"?$')
_OPERATORS = {"||", "&&", ";", "|", "&"}


@dataclass
class Step:
    line: str
    argv: list[str]
    assign: str | None  # VAR=$(ocidiff ...)
    redirect: tuple[str, str] | None  # (">" or ">>", file)


def shell_lines(recipe: str, document: Any) -> list[str]:
    """The shell lines of a recipe in execution order, continuations joined."""
    blocks: list[str] = []
    if recipe == "github-actions.yml":
        for job in document["jobs"].values():
            blocks += [step["run"] for step in job["steps"] if "run" in step]
    elif recipe == "gitlab-ci.yml":
        for job in document.values():
            if isinstance(job, dict) and "script" in job:
                blocks += [*job.get("before_script", []), *job["script"]]
    else:
        for phase in ("install", "pre_build", "build", "post_build"):
            blocks += document["phases"][phase]["commands"]
    lines: list[str] = []
    for block in blocks:
        lines += [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return lines


def parse_steps(lines: list[str]) -> list[Step | tuple[str, str]]:
    """ocidiff commands and plain assignments; everything else is the build, skipped."""
    steps: list[Step | tuple[str, str]] = []
    for line in lines:
        assigned = _ASSIGNMENT.match(line)
        if assigned and (inner := _SUBSTITUTION.match(assigned.group(2))):
            steps.append(_step(inner.group(1), assign=assigned.group(1)))
        elif assigned and "$(" not in line and " " not in assigned.group(2).strip('"'):
            steps.append((assigned.group(1), assigned.group(2).strip('"')))
        elif line.startswith("ocidiff "):
            steps.append(_step(line))
    return steps


def _step(line: str, assign: str | None = None) -> Step:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    tokens = list(lexer)
    argv: list[str] = []
    redirect = None
    for i, token in enumerate(tokens):
        if token in (">", ">>"):
            redirect = (token, tokens[i + 1])
            break
        if token in _OPERATORS:
            break
        argv.append(token)
    assert argv[0] == "ocidiff", line
    return Step(line, argv[1:], assign, redirect)


def expand(text: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise AssertionError(f"recipe uses ${name}: add it to CI_VARIABLES")
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def run_recipe(recipe: str, workspace: Path, image: Path) -> list[tuple[list[str], int]]:
    document = yaml.safe_load((RECIPES / recipe).read_text())
    steps = parse_steps(shell_lines(recipe, document))
    out = workspace / "ocidiff-out"
    out.mkdir(exist_ok=True)
    for name in re.findall(r"ocidiff-out/([\w.-]+\.tar)", (RECIPES / recipe).read_text()):
        shutil.copyfile(image, out / name)
    variables = dict(CI_VARIABLES)
    results: list[tuple[list[str], int]] = []
    for step in steps:
        if isinstance(step, tuple):
            variables[step[0]] = expand(step[1], variables)
            continue
        argv = [expand(arg, variables) for arg in step.argv]
        result = cli(*argv)
        results.append((argv, result.exit_code))
        assert "Traceback" not in result.stderr
        if step.assign:
            variables[step.assign] = result.stdout.strip()
        if step.redirect:
            mode, target = step.redirect
            with open(workspace / expand(target, variables), "a" if mode == ">>" else "w") as f:
                f.write(result.stdout)
    return results


RECIPE_FILES = ["github-actions.yml", "gitlab-ci.yml", "buildspec.yml"]


def test_every_recipe_is_here_and_parses() -> None:
    assert sorted(p.name for p in RECIPES.glob("*.yml")) == sorted(RECIPE_FILES)
    for recipe in RECIPE_FILES:
        steps = parse_steps(shell_lines(recipe, yaml.safe_load((RECIPES / recipe).read_text())))
        assert sum(isinstance(s, Step) for s in steps) >= 3, recipe


@pytest.mark.parametrize("recipe", RECIPE_FILES)
def test_recipe_passes_on_a_fresh_build(
    recipe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_context(tmp_path / "checkout")
    monkeypatch.chdir(workspace)
    results = run_recipe(recipe, workspace, GATES / "app-fresh.tar")
    assert all(code == 0 for _, code in results), results
    commands = {argv[0] for argv, _ in results}
    assert {"verify", "diff", "render"} <= commands or {"ledger", "verify-tree"} <= commands
    summaries = [p for p in (workspace / "ocidiff-out").glob("*.md")]
    for summary in summaries:
        text = summary.read_text()
        assert text.startswith("### ocidiff") and len(text) < 64_000


def test_github_summary_holds_both_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = make_context(tmp_path / "checkout")
    monkeypatch.chdir(workspace)
    run_recipe("github-actions.yml", workspace, GATES / "app-fresh.tar")
    summary = (workspace / "ocidiff-out" / "step-summary.md").read_text()
    assert "### ocidiff verify: OK" in summary and "### ocidiff diff: IDENTICAL" in summary


@pytest.mark.parametrize("recipe", ["gitlab-ci.yml", "buildspec.yml"])
def test_gates_stop_a_stale_build(
    recipe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_context(tmp_path / "checkout")
    monkeypatch.chdir(workspace)
    first = run_recipe(recipe, workspace, GATES / "app-fresh.tar")
    assert all(code == 0 for _, code in first)
    # Same commit, same inputs, rebuilt later from a stale cache: the gates must say no.
    results = run_recipe(recipe, workspace, GATES / "app-stale.tar")
    codes = {argv[0] if argv[0] != "ledger" else "ledger " + argv[1]: code
             for argv, code in results}
    assert codes["verify-tree"] == 1
    if recipe == "buildspec.yml":
        assert codes["ledger check"] == 1
    assert 2 not in codes.values(), codes
