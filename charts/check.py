#!/usr/bin/env python3
"""Lint, render and schema-validate the Helm chart, fully offline (`make charts` runs this).

1. `helm lint --strict` (Helm SDK in process, helm-python-sdk) for every region's values;
2. render the chart for east, west, east+dev and east's failover release;
3. check that the chart's NATS users (files/nats-users.json) are the runtime's table;
4. validate every rendered document: Kubernetes kinds with kubernetes-validate in strict mode against a pinned
   Kubernetes version (unknown fields fail), CloudNativePG `Cluster` and Prometheus Operator `ServiceMonitor`
   with our own JSON schemas (charts/schemas/); a kind that neither knows fails, so nothing reaches a cluster
   unchecked;
5. print documents per kind, and exit 1 with every problem listed on any failure.

No network: no chart repository, no cluster, no schema download (kubernetes-validate bundles its schemas).
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CHART = HERE / "mynumber"
# The oldest minor the platform supports (Chart.yaml kubeVersion); native gRPC probes are GA since 1.27.
KUBE_VERSION = "1.30.0"
RELEASE = "mynumber"
NAMESPACE = "mynumber"
# Each value set is rendered as one release would be installed: files layered left to right.
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "east": ("values-east.yaml",),
    "west": ("values-west.yaml",),
    "east+dev": ("values-east.yaml", "values-dev.yaml"),
    # East's services run in west's cluster after east is lost (docs/deploy.md "Failover").
    "east-failover": ("values-east.yaml", "values-failover.yaml"),
}
# CRDs that kubernetes-validate has no schema for: apiVersion -> kind -> our schema file.
CRD_SCHEMAS: dict[str, dict[str, Path]] = {
    "postgresql.cnpg.io/v1": {"Cluster": HERE / "schemas" / "cnpg-cluster.schema.json"},
    "monitoring.coreos.com/v1": {"ServiceMonitor": HERE / "schemas" / "servicemonitor.schema.json"},
}
LINT_WARNING = 2  # helm-python-sdk severities: 1 info, 2 warning, 3 error; --strict fails on warnings


@dataclass
class Rendered:
    """One value set's rendered documents, each with the template it came from."""

    name: str
    documents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    rendered: dict[str, Rendered] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _hermetic_helm_env() -> None:
    # Helm must not read the user's repositories or caches, nor write outside a scratch dir.
    # One fixed scratch dir (not one per run): nothing piles up in /tmp across CI runs.
    scratch = Path(tempfile.gettempdir()) / "mynumber-helm-check"
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        os.environ[var] = str(scratch / var.lower())


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's layering of -f files: maps merge key by key, anything else (lists too) is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_values(chart: Path, files: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in files:
        loaded = yaml.safe_load((chart / name).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, Mapping):
            raise ValueError(f"{name}: top level must be a mapping")
        values = merge_values(values, loaded)
    return values


def lint(chart: Path, set_name: str, values: dict[str, Any], kube_version: str, report: Report) -> None:
    import helm_python

    result = helm_python.lint(str(chart), values, strict=True, namespace=NAMESPACE,
                              kube_version=f"v{kube_version}")
    for message in result.get("messages", []):
        if message["severity"] >= LINT_WARNING:
            report.problems.append(f"[{set_name}] lint {message['path']}: {message['error']}")
    for error in result.get("errors", []):
        text = f"[{set_name}] lint: {error}"
        if not any(error in p for p in report.problems):
            report.problems.append(text)


def render(chart: Path, set_name: str, values: dict[str, Any], report: Report) -> Rendered:
    import helm_python

    rendered = Rendered(set_name)
    try:
        manifests = helm_python.Chart.load(str(chart)).render(values, name=RELEASE, namespace=NAMESPACE,
                                                               is_install=True)
    except helm_python.HelmError as exc:
        report.problems.append(f"[{set_name}] render failed: {exc}")
        return rendered
    for template, text in sorted(manifests.items()):
        if not template.endswith((".yaml", ".yml")):
            continue  # NOTES.txt and the like
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            report.problems.append(f"[{set_name}] {template}: not YAML: {exc}")
            continue
        for doc in docs:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                report.problems.append(f"[{set_name}] {template}: a document is not a mapping")
                continue
            rendered.documents.append((template, doc))
    if not rendered.documents:
        report.problems.append(f"[{set_name}] rendered no documents")
    return rendered


@functools.cache  # one per schema file for the whole run, not one per rendered Cluster
def _crd_validator(path: Path) -> Any:
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _at(error: Any) -> str:
    """Where in the document a jsonschema error is, dotted."""
    return ".".join(str(p) for p in error.absolute_path) or "(document)"


def validate(rendered: Rendered, kube_version: str, report: Report) -> None:
    import kubernetes_validate

    seen: set[tuple[str, str]] = set()
    for template, doc in rendered.documents:
        kind, api = doc.get("kind"), doc.get("apiVersion")
        name = (doc.get("metadata") or {}).get("name")
        where = f"[{rendered.name}] {template}: {kind or '?'}/{name or '?'}"
        if not kind or not api or not name:
            report.problems.append(f"{where}: apiVersion, kind and metadata.name are required")
            continue
        if (kind, name) in seen:
            report.problems.append(f"{where}: rendered twice")
        seen.add((kind, name))
        schema_path = CRD_SCHEMAS.get(api, {}).get(kind)
        if schema_path is not None:
            for err in sorted(_crd_validator(schema_path).iter_errors(doc), key=lambda e: list(e.absolute_path)):
                report.problems.append(f"{where}: {_at(err)}: {err.message}")
            continue
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            report.problems.append(f"{where}: no schema for {api} {kind} (add one under charts/schemas/)")
        except kubernetes_validate.ValidationError as exc:
            report.problems.append(f"{where}: {_at(exc)}: {exc.message}")


def check_nats_users(chart: Path, report: Report) -> None:
    """The chart's NATS users are the runtime's table (mynumber_runtime.nats_identity), not a hand-kept copy."""
    sys.path.insert(0, str(HERE))
    try:
        import nats_users
    finally:
        sys.path.remove(str(HERE))
    path = chart / nats_users.FILE
    try:
        expected = nats_users.text()
    except ImportError as exc:
        report.problems.append(f"{path.name}: cannot read the runtime's NATS table ({exc})")
        return
    if not path.is_file() or path.read_text(encoding="utf-8") != expected:
        report.problems.append(f"{path.relative_to(chart)} differs from mynumber_runtime.nats_identity: "
                               "run charts/nats_users.py > charts/mynumber/files/nats-users.json")


def run(chart: Path = CHART, value_sets: Mapping[str, Sequence[str]] | None = None,
        kube_version: str = KUBE_VERSION) -> Report:
    """Lint, render and validate every value set; never raises for a chart problem (it is in the report)."""
    _hermetic_helm_env()
    report = Report()
    check_nats_users(chart, report)
    for set_name, files in (value_sets or VALUE_SETS).items():
        try:
            values = load_values(chart, files)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            report.problems.append(f"[{set_name}] values: {exc}")
            continue
        lint(chart, set_name, values, kube_version, report)
        rendered = render(chart, set_name, values, report)
        report.rendered[set_name] = rendered
        validate(rendered, kube_version, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chart", type=Path, default=CHART)
    parser.add_argument("--kube-version", default=KUBE_VERSION, help="Kubernetes version to validate against")
    parser.add_argument("--values", action="append", metavar="NAME=FILE[,FILE]",
                        help="a value set (files relative to the chart); default: east, west, east+dev, east-failover")
    args = parser.parse_args(argv)
    value_sets = dict(VALUE_SETS)
    if args.values:
        value_sets = {n: tuple(f.split(",")) for n, _, f in (v.partition("=") for v in args.values)}
    report = run(args.chart, value_sets, args.kube_version)
    for name, rendered in report.rendered.items():
        kinds = Counter(doc["kind"] for _, doc in rendered.documents if isinstance(doc.get("kind"), str))
        summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        print(f"{name}: {len(rendered.documents)} documents ({summary})")
    if report.problems:
        print(f"\nFAILED: {len(report.problems)} problem(s) in chart {args.chart} "
              f"(Kubernetes {args.kube_version}):", file=sys.stderr)
        for problem in report.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"OK: chart {args.chart.name} lints strictly, renders and validates against Kubernetes "
          f"{args.kube_version} for {', '.join(report.rendered)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
