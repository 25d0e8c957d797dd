"""Helpers for .ci/run around GitHub Actions files (needs PyYAML):

- ``steps WORKFLOW``: the ``run:`` steps of the workflow's first job as one
  bash script, for replaying them here: steps with an ``if:`` (pull requests
  only) and the installs (named "Install ...") are left out, since .ci/run
  installs from its own build.
- ``as-workflow ACTION OUT``: a composite action's steps as a workflow (its
  inputs as workflow_dispatch inputs), so that actionlint checks them.
"""

import shlex
import sys
from pathlib import Path

import yaml


def steps(path: str) -> str:
    workflow = yaml.safe_load(Path(path).read_text())
    job = next(iter(workflow["jobs"].values()))
    lines = []
    for step in job["steps"]:
        if "run" not in step or "if" in step or step.get("name", "").startswith("Install"):
            continue
        lines.append(f"echo {shlex.quote('+ ' + step.get('name', 'step'))}")
        lines.append(step["run"].rstrip())
    return "\n".join(lines) + "\n"


def as_workflow(path: str, out: str) -> None:
    action = yaml.safe_load(Path(path).read_text())
    inputs = {name: {"description": spec.get("description", ""), "type": "string",
                     "default": spec.get("default", "")}
              for name, spec in (action.get("inputs") or {}).items()}
    workflow = {"name": action["name"], "on": {"workflow_dispatch": {"inputs": inputs}},
                "jobs": {"action": {"runs-on": "ubuntu-latest",
                                    "steps": action["runs"]["steps"]}}}
    with open(out, "w") as file:
        yaml.safe_dump(workflow, file, sort_keys=False)


if __name__ == "__main__":
    if sys.argv[1] == "steps":
        sys.stdout.write(steps(sys.argv[2]))
    else:
        as_workflow(sys.argv[2], sys.argv[3])
