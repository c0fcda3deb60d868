"""The Helm chart: the offline check passes, fails on broken copies, and the rendered pods are hardened."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CHARTS = Path(__file__).resolve().parents[1]
REPO = CHARTS.parent
_spec = importlib.util.spec_from_file_location("charts_check", CHARTS / "check.py")
assert _spec and _spec.loader
check = importlib.util.module_from_spec(_spec)
sys.modules["charts_check"] = check  # dataclasses resolve their module by name
_spec.loader.exec_module(check)

REGIONS = ("east", "west")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
SERVICES = ("numbering", "jpki", "notice", "issuance", "gateway")
SECRET_DIR = "/var/run/secrets/mynumber"


@pytest.fixture(scope="module")
def report() -> Any:
    return check.run()


def docs(report: Any, region: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [d for _, d in report.rendered[region].documents if kind is None or d["kind"] == kind]


def one(report: Any, region: str, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs(report, region, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name} rendered {len(found)} times in {region}"
    return found[0]


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment, StatefulSet or Job."""
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod(workload)["containers"][0]
    return first


def volumes_of(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod(workload)["volumes"]}


def pod_specs(report: Any, region: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in WORKLOAD_KINDS:
        for d in docs(report, region, kind):
            yield f"{kind}/{d['metadata']['name']}", pod(d)


def env_of(deployment: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(deployment)["env"]}


def image_env(service: str) -> dict[str, str]:
    """The ENV of the final stage of services/<service>/Dockerfile: what the container starts with."""
    text = (REPO / "services" / service / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("FROM "):
            env = {}
        elif line.startswith("ENV "):
            env.update(word.split("=", 1) for word in shlex.split(line[4:]))
    return env


def settings_of(deployment: dict[str, Any], image: str, settings_cls: type[Any], prefix: str,
                monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's own settings class, built from its image's ENV overlaid by the pod's env, as in the pod."""
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.delenv(name)
    for name, value in {**image_env(image), **env_of(deployment)}.items():
        monkeypatch.setenv(name, value)
    return settings_cls()


def secret_behind(deployment: dict[str, Any], path: Path | str) -> str:
    """The Secret whose mounted directory holds the file `path` (fails if the file is not in a mounted Secret)."""
    volumes = volumes_of(deployment)
    for m in container(deployment)["volumeMounts"]:
        if m["mountPath"] == os.path.dirname(str(path)) and "secret" in volumes[m["name"]]:
            assert m.get("readOnly") is True, m
            return str(volumes[m["name"]]["secret"]["secretName"])
    raise AssertionError(f"{path} is not inside a mounted Secret")


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    target = tmp_path / "mynumber"
    shutil.copytree(CHARTS / "mynumber", target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    """Break a copied file on purpose; fails if `old` is not there (the test would then check nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check_with_values(chart: Path, edit: Callable[[dict[str, Any]], None], file: str = "values-east.yaml",
                      region: str = "east") -> Any:
    """Edit one values file of a chart copy in place, then run the check for that region alone."""
    path = chart / file
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(values)
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return check.run(chart, {region: (f"values-{region}.yaml",)})


# --- the check itself -------------------------------------------------------------------------------------------

def test_chart_lints_renders_and_validates_for_east_west_and_dev(report: Any) -> None:
    assert report.problems == []
    assert set(report.rendered) == {"east", "west", "east+dev", "east-failover"}
    for region in REGIONS:
        kinds = {d["kind"] for d in docs(report, region)}
        assert {"Deployment", "Service", "NetworkPolicy", "Cluster", "StatefulSet", "ServiceAccount"} <= kinds


def test_check_script_passes_with_the_network_unplugged() -> None:
    cmd = [sys.executable, str(CHARTS / "check.py")]
    if shutil.which("unshare") and os.geteuid() == 0:
        cmd = ["unshare", "-n", *cmd]  # a new network namespace: no route anywhere, not even DNS
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "east: " in done.stdout and "west: " in done.stdout and "Deployment 6" in done.stdout


def test_broken_template_fails_the_check_with_the_template_named(chart_copy: Path) -> None:
    template = chart_copy / "templates" / "numbering.yaml"
    template.write_text(template.read_text(encoding="utf-8") + "\n{{ if .Values.region.name }}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(CHARTS / "check.py"), "--chart", str(chart_copy)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "FAILED" in done.stderr and "numbering.yaml" in done.stderr


def test_values_file_with_wrong_type_fails_schema_validation(chart_copy: Path) -> None:
    def edit(west: dict[str, Any]) -> None:
        west["services"]["jpki"]["replicas"] = "two"

    result = check_with_values(chart_copy, edit, "values-west.yaml", "west")
    # values.schema.json stops it at lint and render, naming the value.
    assert any("/services/jpki/replicas" in p and "lint" in p for p in result.problems), result.problems
    assert any("render failed" in p and "/services/jpki/replicas" in p for p in result.problems), result.problems


def test_wrong_type_in_a_template_fails_kubernetes_schema_validation(chart_copy: Path) -> None:
    replace_in(chart_copy / "templates" / "_helpers.tpl", "  minAvailable: 1\n", "  minAvailable: [1]\n")
    result = check.run(chart_copy, {"east": ("values-east.yaml",)})
    assert any("PodDisruptionBudget/numbering" in p and "minAvailable" in p for p in result.problems), \
        result.problems


def test_a_secret_typed_into_values_is_refused(chart_copy: Path) -> None:
    def edit(east: dict[str, Any]) -> None:
        east["services"]["numbering"] = {"env": {"DATABASE__PASSWORD": "hunter2"}}

    result = check_with_values(chart_copy, edit)
    assert any("DATABASE__PASSWORD" in p and "_FILE$" in p for p in result.problems), result.problems


@pytest.mark.parametrize("digit", [0, 10])
def test_a_region_digit_outside_1_to_9_is_refused(chart_copy: Path, digit: int) -> None:
    def edit(east: dict[str, Any]) -> None:
        east["region"]["digit"] = digit

    result = check_with_values(chart_copy, edit)
    assert any("digit" in p for p in result.problems), result.problems


def test_unknown_field_in_a_manifest_is_refused_in_strict_mode(chart_copy: Path) -> None:
    replace_in(chart_copy / "templates" / "networkpolicy.yaml", "  podSelector: {}\n  policyTypes: [Ingress, Egress]",
               "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  denyAll: true")
    result = check.run(chart_copy, {"east": ("values-east.yaml",)})
    assert any("default-deny-all" in p and "denyAll" in p for p in result.problems), result.problems


def test_cnpg_cluster_is_checked_against_our_schema(chart_copy: Path) -> None:
    def edit(east: dict[str, Any]) -> None:
        east["postgres"]["storage"] = "twenty gigabytes"

    result = check_with_values(chart_copy, edit)
    assert any("Cluster/pg-numbering-east" in p and "storage.size" in p for p in result.problems), result.problems


def test_a_region_without_its_values_does_not_render(chart_copy: Path) -> None:
    # values.yaml alone has no region: rendering it must fail loudly rather than produce a nameless region.
    result = check.run(chart_copy, {"bare": ()})
    assert any("region.name is required" in p for p in result.problems), result.problems


def test_adding_a_service_is_one_values_block_and_one_template(chart_copy: Path) -> None:
    # convenience-cert: a service the gateway already calls and the chart does not render yet.
    (chart_copy / "templates" / "convenience-cert.yaml").write_text(
        '{{ include "mynumber.service" (dict "root" . "name" "convenience-cert") }}\n', encoding="utf-8")

    def edit(east: dict[str, Any]) -> None:
        east["services"]["convenience-cert"] = {
            "enabled": True, "envPrefix": "CONVENIENCE_CERT", "replicas": 2, "grpcPort": 50051, "args": [],
            "database": True, "nats": True, "callers": ["gateway"], "calls": [], "secretFiles": [], "env": {},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
            "autoscaling": {"enabled": False}}

    result = check_with_values(chart_copy, edit)
    assert result.problems == []
    names = {(d["kind"], d["metadata"]["name"]) for _, d in result.rendered["east"].documents}
    assert {("Deployment", "convenience-cert"), ("ServiceAccount", "convenience-cert"),
            ("NetworkPolicy", "convenience-cert"),
            ("Cluster", "pg-convenience-cert-east"), ("Cluster", "pg-convenience-cert-west-standby"),
            ("PodDisruptionBudget", "convenience-cert")} <= names


def test_an_http_only_workload_takes_no_grpc_callers(chart_copy: Path) -> None:
    def edit(east: dict[str, Any]) -> None:
        # Callers are gRPC callers: an http-only workload has no port to let them in on.
        east["services"]["jpki-responder"] = {"callers": ["gateway"]}

    result = check_with_values(chart_copy, edit)
    assert any("/services/jpki-responder/callers" in p and "lint" in p for p in result.problems), result.problems


def test_an_http_only_workload_needs_its_health_path_and_a_grpc_service_its_port(chart_copy: Path) -> None:
    def edit(defaults: dict[str, Any]) -> None:
        del defaults["services"]["jpki-responder"]["healthPath"]
        del defaults["services"]["notice"]["grpcPort"]

    result = check_with_values(chart_copy, edit, "values.yaml")
    assert any("/services/jpki-responder" in p and "healthPath" in p for p in result.problems), result.problems
    assert any("/services/notice" in p and "grpcPort" in p for p in result.problems), result.problems


def test_a_workload_part_of_a_disabled_service_does_not_render(chart_copy: Path) -> None:
    def edit(east: dict[str, Any]) -> None:
        east["services"]["jpki"] = {"enabled": False}

    result = check_with_values(chart_copy, edit)
    # Its database would not exist: refuse rather than render a responder pointed at nothing.
    assert any("services.jpki-responder.partOf: jpki is not an enabled service" in p for p in result.problems), \
        result.problems


# --- hardening --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("region", REGIONS)
def test_every_pod_runs_non_root_read_only_without_capabilities(report: Any, region: str) -> None:
    seen = 0
    for where, spec in pod_specs(report, region):
        seen += 1
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec.get("automountServiceAccountToken") is False, where
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert c["resources"]["requests"] and c["resources"]["limits"], where
    assert seen == 8  # 5 services, jpki's responder, NATS, the streams Job


@pytest.mark.parametrize("region", REGIONS)
def test_every_deployment_has_native_grpc_probes_on_the_health_port(report: Any, region: str) -> None:
    http_only = []
    for d in docs(report, region, "Deployment"):
        c = container(d)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        if "grpc" not in ports:
            # An HTTP-only workload serves no gRPC at all: its probes ask its own /healthz on its HTTP port.
            http_only.append(d["metadata"]["name"])
            assert set(ports) == {"http"}, d["metadata"]["name"]
            for probe in ("readinessProbe", "livenessProbe"):
                assert "grpc" not in c[probe], d["metadata"]["name"]
                assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, d["metadata"]["name"]
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            assert set(c[probe]) >= {"grpc"} and "httpGet" not in c[probe], d["metadata"]["name"]
            assert c[probe]["grpc"]["port"] == ports["health"]
    assert http_only == ["jpki-responder"]


@pytest.mark.parametrize("region", REGIONS)
def test_namespace_default_denies_and_every_workload_has_its_own_allow(report: Any, region: str) -> None:
    deny = one(report, region, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny["podSelector"] == {} and sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert not deny.get("ingress") and not deny.get("egress")
    policies = docs(report, region, "NetworkPolicy")
    for kind in ("Deployment", "StatefulSet"):
        for d in docs(report, region, kind):
            labels = d["spec"]["template"]["metadata"]["labels"]
            own = [p for p in policies if p["spec"]["podSelector"].get("matchLabels")
                   and p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
            assert own, f"no allow-policy selects {kind}/{d['metadata']['name']}"


@pytest.mark.parametrize("region", REGIONS)
def test_gateway_reaches_every_service_and_jpki_http_is_open(report: Any, region: str) -> None:
    for name in ("numbering", "jpki", "notice"):
        ingress = one(report, region, "NetworkPolicy", name)["spec"]["ingress"]
        callers = [f["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                   for rule in ingress for f in rule.get("from", [])]
        assert "gateway" in callers, name
    jpki_rules = one(report, region, "NetworkPolicy", "jpki")["spec"]["ingress"]
    assert any("from" not in r and r["ports"] == [{"port": 8080, "protocol": "TCP"}] for r in jpki_rules)
    gateway_rules = one(report, region, "NetworkPolicy", "gateway")["spec"]["ingress"]
    assert any("from" not in r and r["ports"] == [{"port": 8443, "protocol": "TCP"}] for r in gateway_rules)
    # numbering and notice are reachable from the gateway only, never from outside (and, on the metrics port
    # only, from the scraper: test_each_service_serves_metrics_on_its_own_port_reachable_by_the_scraper_only).
    assert all("from" in r for r in one(report, region, "NetworkPolicy", "numbering")["spec"]["ingress"])
    metrics_port = {"port": 9464, "protocol": "TCP"}
    assert [r for r in one(report, region, "NetworkPolicy", "notice")["spec"]["ingress"]
            if r["ports"] != [metrics_port]] == [
        {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway",
                                                   "app.kubernetes.io/instance": "mynumber"}}}],
         "ports": [{"port": 50053, "protocol": "TCP"}]}]
    # The gateway's egress reaches notice on the port notice listens on.
    gateway_egress = one(report, region, "NetworkPolicy", "gateway")["spec"]["egress"]
    to_notice = [r for r in gateway_egress
                 if any(f.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "notice"
                        for f in r["to"])]
    assert [r["ports"] for r in to_notice] == [[{"port": 50053, "protocol": "TCP"}]]


@pytest.mark.parametrize("region", REGIONS)
def test_secrets_are_mounted_files_never_literal_values(report: Any, region: str) -> None:
    """Every workload kind, every container (init containers too), every env entry, and every ConfigMap."""
    rendered_kinds = {d["kind"] for d in docs(report, region)}
    pod_kinds = rendered_kinds & {"Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet", "Pod", "ReplicaSet"}
    assert pod_kinds <= set(WORKLOAD_KINDS), f"{pod_kinds - set(WORKLOAD_KINDS)}: add it to WORKLOAD_KINDS"
    assert docs(report, region, "Secret") == []  # the chart creates no Secret: nothing from values can leak
    checked = 0
    for name, spec in pod_specs(report, region):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            secret_dirs = {m["mountPath"] for m in c.get("volumeMounts", [])
                           if "secret" in volumes.get(m["name"], {}) or "projected" in volumes.get(m["name"], {})}
            for e in c.get("env", []):
                checked += 1
                if "valueFrom" in e:
                    assert "secretKeyRef" not in e["valueFrom"], f"{name}: {e['name']} reads a Secret into env"
                if any(word in e["name"] for word in ("KEY", "PIN", "PASSWORD", "TLS", "URL_FILE", "SECRET")):
                    assert e["name"].endswith("_FILE"), f"{name}: {e['name']} must be given as a file"
                    assert os.path.dirname(e.get("value", "")) in secret_dirs, \
                        f"{name}: {e['name']}={e.get('value')} is not inside a mounted Secret"
            for f in c.get("envFrom", []):
                assert "secretRef" not in f, f"{name}: a whole Secret as env"
    assert checked > 50, checked  # the walk reached the env of every workload
    for d in docs(report, region, "ConfigMap"):
        for key, text in (d.get("data") or {}).items():
            assert "PRIVATE KEY" not in text and not any(
                line.strip().lower().startswith(("password", "pin:", "pin=")) for line in text.splitlines()), \
                f"ConfigMap/{d['metadata']['name']}: {key} holds a secret"


@pytest.mark.parametrize("region", REGIONS)
def test_services_get_their_settings_and_images_by_convention(report: Any, region: str) -> None:
    # Chart defaults first, as Helm layers them.
    values = check.load_values(check.CHART, ("values.yaml", f"values-{region}.yaml"))
    for svc in SERVICES:
        d = one(report, region, "Deployment", svc)
        prefix = values["services"][svc]["envPrefix"]
        env = env_of(d)
        assert all(name.startswith(prefix + "_") for name in env)
        assert env[f"{prefix}_REGION_DIGIT"] == str(values["region"]["digit"])
        assert env[f"{prefix}_GRPC__LISTEN"] == f"0.0.0.0:{values['services'][svc]['grpcPort']}"
        assert env[f"{prefix}_DATABASE__URL_FILE"].startswith("/var/run/secrets/")
        image = container(d)["image"]
        assert image == f"{values['image']['registry']}/mynumber-{svc}:{values['image']['tag']}"
        sa = one(report, region, "ServiceAccount", svc)
        assert sa["automountServiceAccountToken"] is False
        assert pod(d)["serviceAccountName"] == svc
    assert env_of(one(report, region, "Deployment", "numbering"))["NUMBERING_NATS__URL"] == "nats://nats:4222"


def test_chart_ports_are_the_ports_each_image_listens_on() -> None:
    values = check.load_values(check.CHART, ("values.yaml",))["services"]
    for svc in ("numbering", "jpki", "notice", "issuance"):  # the services whose image lives in this repository
        listen = image_env(svc)[f"{values[svc]['envPrefix']}_GRPC__LISTEN"]
        assert listen.rsplit(":", 1)[1] == str(values[svc]["grpcPort"]), svc
    assert values["notice"]["grpcPort"] == 50053
    assert image_env("jpki")["JPKI_HTTP__LISTEN_PORT"] == str(values["jpki"]["httpPort"]) \
        == str(values["jpki-responder"]["httpPort"])


def test_regions_have_distinct_digits_and_disjoint_home_prefectures() -> None:
    east, west = (check.load_values(check.CHART, (f"values-{r}.yaml",))["region"] for r in REGIONS)
    assert east["digit"] != west["digit"] and {east["digit"], west["digit"]} <= set(range(1, 10))
    assert not set(east["homePrefectures"]) & set(west["homePrefectures"])
    # All 47 prefectures (JIS X 0401 01-47) have exactly one home.
    assert sorted(east["homePrefectures"] + west["homePrefectures"]) == [f"{i:02d}" for i in range(1, 48)]


@pytest.mark.parametrize(("region", "peer"), [("east", "west"), ("west", "east")])
def test_each_service_has_its_database_and_a_standby_of_the_peer_region(report: Any, region: str,
                                                                         peer: str) -> None:
    for svc in SERVICES:
        own = one(report, region, "Cluster", f"pg-{svc}-{region}")["spec"]
        assert own["bootstrap"]["initdb"]["database"] == svc.replace("-", "_")
        standby = one(report, region, "Cluster", f"pg-{svc}-{peer}-standby")["spec"]
        assert standby["replica"] == {"enabled": True, "source": f"pg-{svc}-{peer}"}
        assert standby["externalClusters"][0]["connectionParameters"]["sslmode"] == "verify-full"
    # jpki's responder reads jpki's database: no cluster of its own.
    assert not [d for d in docs(report, region, "Cluster") if "responder" in d["metadata"]["name"]]


def test_nats_gateway_points_each_region_at_the_other_and_mirrors_east_streams(report: Any) -> None:
    conf = {r: one(report, r, "ConfigMap", "nats-config")["data"]["nats.conf"] for r in REGIONS}
    assert "name: east" in conf["east"] and "{name: west, urls:" in conf["east"]
    assert "name: west" in conf["west"] and "{name: east, urls:" in conf["west"]
    east_streams = one(report, "east", "ConfigMap", "jetstream-streams")["data"]
    west_streams = one(report, "west", "ConfigMap", "jetstream-streams")["data"]
    homed = {yaml.safe_load(v)["name"] for v in east_streams.values()}
    mirrored = {yaml.safe_load(v)["mirror"]["name"] for v in west_streams.values()}
    assert homed == mirrored == {"MYNUMBER_NUMBERING", "MYNUMBER_JPKI", "MYNUMBER_NOTICE", "MYNUMBER_ISSUANCE",
                                  "MYNUMBER_DEADLETTER"}
    deadletter = yaml.safe_load(east_streams["MYNUMBER_DEADLETTER.json"])
    assert deadletter["subjects"] == ["mynumber.deadletter.>"] and deadletter["placement"] == {"cluster": "east"}
    assert all(yaml.safe_load(v)["placement"] == {"cluster": "west"} for v in west_streams.values())


def test_dev_overlay_mounts_a_persistent_softhsm_token_directory(report: Any) -> None:
    jpki = one(report, "east+dev", "Deployment", "jpki")
    mounts = {m["name"]: m["mountPath"] for m in container(jpki)["volumeMounts"]}
    assert volumes_of(jpki)["softhsm"]["persistentVolumeClaim"]["claimName"] == "jpki-softhsm-tokens"
    assert env_of(jpki)["JPKI_HSM__SOFTHSM_DATA_DIR"] == mounts["softhsm"]
    assert env_of(jpki)["JPKI_HSM__MODULE"].endswith(".so")
    assert "softhsm" not in volumes_of(one(report, "east", "Deployment", "jpki"))


def test_failover_release_runs_east_services_on_the_promoted_standbys_in_west(report: Any) -> None:
    kinds = {d["kind"] for d in docs(report, "east-failover")}
    # No databases or NATS of its own: the surviving region's promoted standbys and NATS serve it.
    assert "Cluster" not in kinds and "StatefulSet" not in kinds and "Job" not in kinds
    numbering = one(report, "east-failover", "Deployment", "numbering")
    env = env_of(numbering)
    assert env["NUMBERING_REGION_DIGIT"] not in {"1", "2"}  # never the lost region's digit, nor the survivor's
    assert env["NUMBERING_NATS__URL"] == "nats://nats.mynumber.svc:4222"
    assert volumes_of(numbering)["db"]["secret"]["secretName"] == "pg-numbering-east-standby-app"
    egress = one(report, "east-failover", "NetworkPolicy", "numbering")["spec"]["egress"]
    assert {"podSelector": {"matchLabels": {"cnpg.io/cluster": "pg-numbering-east-standby"}},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mynumber"}}} in egress[0]["to"]
    # West's release lets exactly that namespace reach the standby and NATS.
    pg_policy = one(report, "west", "NetworkPolicy", "pg-numbering")["spec"]["ingress"]
    assert any(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
               == "mynumber-east-dr" for rule in pg_policy for f in rule["from"])


# --- notice -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("region", REGIONS)
def test_notice_settings_resolve_to_its_three_keys_and_database_as_mounted_secrets(
        report: Any, region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from notice.settings import NoticeSettings

    notice = one(report, region, "Deployment", "notice")
    settings = settings_of(notice, "notice", NoticeSettings, "NOTICE_", monkeypatch)
    assert settings.grpc.listen == "0.0.0.0:50053" and settings.grpc.health_listen == "0.0.0.0:50052"
    assert secret_behind(notice, settings.keys_file) == "notice-keys"
    assert secret_behind(notice, settings.events_key_file) == "platform-events-key"  # the same as numbering's
    assert secret_behind(notice, settings.print_key_file) == "notice-print-key"
    assert secret_behind(notice, settings.database.url_file) == f"pg-notice-{region}-app"
    assert secret_behind(notice, settings.grpc.tls_cert_file) == "notice-tls"
    assert settings.nats.url == "nats://nats:4222"
    numbering_events = env_of(one(report, region, "Deployment", "numbering"))["NUMBERING_EVENTS_KEY_FILE"]
    assert secret_behind(one(report, region, "Deployment", "numbering"), numbering_events) == "platform-events-key"
    assert container(notice)["args"] == ["--migrate"]


@pytest.mark.parametrize("region", REGIONS)
def test_notice_writes_its_print_batches_to_a_shared_persistent_volume_not_the_root_fs(
        report: Any, region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from notice.settings import NoticeSettings

    notice = one(report, region, "Deployment", "notice")
    c = container(notice)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    export_dir = settings_of(notice, "notice", NoticeSettings, "NOTICE_", monkeypatch).export_dir
    mount = [m for m in c["volumeMounts"] if m["mountPath"] == str(export_dir)]
    assert len(mount) == 1 and not mount[0].get("readOnly")
    volume = volumes_of(notice)[mount[0]["name"]]
    assert volume == {"name": "notice-export", "persistentVolumeClaim": {"claimName": "notice-export"}}
    claim = one(report, region, "PersistentVolumeClaim", "notice-export")
    # Every replica writes there and the vendor's transfer agent reads it.
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    # Batches not yet collected outlive an uninstall.
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_dev_overlay_gives_notice_a_single_node_export_volume(report: Any) -> None:
    claim = one(report, "east+dev", "PersistentVolumeClaim", "notice-export")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    # The softhsm claim is still rendered once, by jpki.
    assert one(report, "east+dev", "PersistentVolumeClaim", "jpki-softhsm-tokens")


# --- jpki's OCSP/CRL responder ----------------------------------------------------------------------------------

@pytest.mark.parametrize("region", REGIONS)
def test_jpki_responder_scales_out_jpki_image_http_only_behind_its_own_service(report: Any, region: str) -> None:
    responder = one(report, region, "Deployment", "jpki-responder")
    jpki = one(report, region, "Deployment", "jpki")
    c = container(responder)
    assert c["image"] == container(jpki)["image"]
    assert c["image"].endswith("/mynumber-jpki:0.1.0")
    args = c["args"]
    assert args == ["responder", "--workers", "2", "--port", "8080"]
    assert c["ports"] == [{"name": "http", "containerPort": int(args[args.index("--port") + 1]),
                                   "protocol": "TCP"}]
    # The HPA owns the replica count (from 2), the PDB keeps one up through a drain.
    assert "replicas" not in responder["spec"]
    hpa = one(report, region, "HorizontalPodAutoscaler", "jpki-responder")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "jpki-responder" and hpa["minReplicas"] == 2 <= hpa["maxReplicas"]
    labels = responder["spec"]["template"]["metadata"]["labels"]
    pdb = one(report, region, "PodDisruptionBudget", "jpki-responder")["spec"]
    assert pdb["minAvailable"] == 1 and pdb["selector"]["matchLabels"].items() <= labels.items()
    service = one(report, region, "Service", "jpki-responder")["spec"]
    assert service["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]
    assert service["selector"].items() <= labels.items()
    assert not service["selector"].items() <= jpki["spec"]["template"]["metadata"]["labels"].items()
    # jpki's own Service keeps serving CRL/OCSP over HTTP beside gRPC (and its metrics).
    jpki_ports = {p["name"]: p["port"] for p in one(report, region, "Service", "jpki")["spec"]["ports"]}
    assert jpki_ports == {"grpc": 50051, "http": 8080, "metrics": 9464}


@pytest.mark.parametrize("region", REGIONS)
def test_jpki_responder_is_open_on_8080_and_reaches_only_jpki_database(report: Any, region: str) -> None:
    policy = one(report, region, "NetworkPolicy", "jpki-responder")["spec"]
    labels = one(report, region, "Deployment", "jpki-responder")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    # Verifiers fetch OCSP and CRLs from outside: port 8080 from anywhere, nothing else.
    assert policy["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
    # Out: jpki's PostgreSQL only (DNS is the namespace-wide allow-dns); no NATS, no service.
    assert policy["egress"] == [{"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": f"pg-jpki-{region}"}}}],
                                 "ports": [{"port": 5432, "protocol": "TCP"}]}]
    assert "mynumber.jp/nats-client" not in labels
    assert one(report, region, "NetworkPolicy", "allow-dns")["spec"]["podSelector"] == {}
    # jpki's database lets the responder in, beside jpki itself.
    first = one(report, region, "NetworkPolicy", "pg-jpki")["spec"]["ingress"][0]
    assert [f["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for f in first["from"]] == \
        ["jpki", "jpki-responder"]
    assert first["ports"] == [{"port": 5432, "protocol": "TCP"}]


@pytest.mark.parametrize("region", REGIONS)
def test_jpki_responder_settings_validate_in_its_image_and_hold_only_what_it_reads(
        report: Any, region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from jpki.settings import JpkiSettings

    responder = one(report, region, "Deployment", "jpki-responder")
    jpki = one(report, region, "Deployment", "jpki")
    # The image presets JPKI_GRPC__LISTEN=0.0.0.0:50051; the pod turns gRPC off, so no mTLS files are needed.
    settings = settings_of(responder, "jpki", JpkiSettings, "JPKI_", monkeypatch)
    assert settings.grpc.listen == "" and settings.grpc.tls_cert_file is None
    assert settings.http.listen_host == "0.0.0.0"
    assert secret_behind(responder, settings.database.url_file) == f"pg-jpki-{region}-app"
    assert secret_behind(responder, settings.keys_file) == "jpki-keys"
    assert secret_behind(responder, settings.hsm.user_pin_file) == "jpki-hsm-pin"
    # The same HSM and public URL as jpki.
    env, jpki_env = env_of(responder), env_of(jpki)
    for name in ("JPKI_HSM__MODULE", "JPKI_HSM__TOKEN_LABEL", "JPKI_HTTP__PUBLIC_BASE_URL"):
        assert env[name] == jpki_env[name], name
    assert env["JPKI_HTTP__PUBLIC_BASE_URL"] == f"http://jpki.{region}.example.jp"
    # Nothing it does not read: no events key, no service certificate.
    secrets = {v["secret"]["secretName"] for v in volumes_of(responder).values() if "secret" in v}
    assert secrets == {f"pg-jpki-{region}-app", "jpki-keys", "jpki-hsm-pin"}
    assert "JPKI_EVENTS_KEY_FILE" not in env and not any("TLS" in name for name in env)


def test_dev_overlay_gives_the_responder_jpki_softhsm_tokens(report: Any) -> None:
    responder = one(report, "east+dev", "Deployment", "jpki-responder")
    jpki = one(report, "east+dev", "Deployment", "jpki")
    for d in (responder, jpki):
        assert volumes_of(d)["softhsm"]["persistentVolumeClaim"]["claimName"] == "jpki-softhsm-tokens"
    assert env_of(responder)["JPKI_HSM__SOFTHSM_DATA_DIR"] == env_of(jpki)["JPKI_HSM__SOFTHSM_DATA_DIR"]
    assert "softhsm" not in volumes_of(one(report, "east", "Deployment", "jpki-responder"))


def test_failover_release_runs_the_responder_on_the_promoted_jpki_standby(report: Any) -> None:
    responder = one(report, "east-failover", "Deployment", "jpki-responder")
    assert volumes_of(responder)["db"]["secret"]["secretName"] == "pg-jpki-east-standby-app"
    egress = one(report, "east-failover", "NetworkPolicy", "jpki-responder")["spec"]["egress"]
    assert egress == [{"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "pg-jpki-east-standby"}},
                               "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mynumber"}}}],
                       "ports": [{"port": 5432, "protocol": "TCP"}]}]
    # West's release lets the failover namespace's responder reach the standby too.
    pg_policy = one(report, "west", "NetworkPolicy", "pg-jpki")["spec"]["ingress"]
    admitted = {f["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for rule in pg_policy
                for f in rule["from"]
                if f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                == "mynumber-east-dr"}
    assert admitted == {"jpki", "jpki-responder"}


# --- NATS: one user per service, each publishing only its own subjects ------------------------------------------

NATS_SERVICES = ("numbering", "notice", "jpki", "issuance", "gateway", "convenience-cert", "resident")


def subject_allowed(subject: str, patterns: list[str]) -> bool:
    """NATS subject matching: `*` is one token, `>` one or more trailing tokens."""
    tokens = subject.split(".")
    for pattern in patterns:
        parts = pattern.split(".")
        if parts[-1] == ">" and len(tokens) >= len(parts) and all(
                p in ("*", t) for p, t in zip(parts[:-1], tokens, strict=False)):
            return True
        if len(parts) == len(tokens) and all(p in ("*", t) for p, t in zip(parts, tokens, strict=True)):
            return True
    return False


def nats_permissions(report: Any, region: str) -> dict[str, dict[str, list[str]]]:
    """Each user's publish and subscribe allow-lists as the rendered NATS configuration grants them."""
    data = one(report, region, "ConfigMap", "nats-config")["data"]
    out: dict[str, dict[str, list[str]]] = {}
    for key, value in data.items():
        if key.startswith("perm-") and key.endswith(".json"):
            perm = yaml.safe_load(value)
            out[key[len("perm-"):-len(".json")]] = {"publish": perm["publish"]["allow"],
                                                    "subscribe": perm["subscribe"]["allow"]}
    return out


def render_nats_auth(report: Any, region: str, target: Path,
                     passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the NATS pod's init script (render-auth.sh, as rendered) on password files under `target`."""
    data = one(report, region, "ConfigMap", "nats-config")["data"]
    template, users, conf = target / "template", target / "users", target / "conf"
    for d in (template, users, conf):
        d.mkdir(parents=True, exist_ok=True)
    for key, value in data.items():
        (template / key).write_text(value, encoding="utf-8")
    for user, password in passwords.items():
        (users / user).mkdir(exist_ok=True)
        (users / user / "password").write_text(password + "\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "NATS_TEMPLATE_DIR": str(template), "NATS_USERS_DIR": str(users),
           "NATS_CONFIG_DIR": str(conf)}
    return subprocess.run(["/bin/sh", str(template / "render-auth.sh")], env=env, capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("region", REGIONS)
def test_a_service_user_cannot_publish_another_services_subjects_in_the_rendered_config(
        report: Any, region: str) -> None:
    perms = nats_permissions(report, region)
    assert set(NATS_SERVICES) | {"operator"} == set(perms)
    for svc in NATS_SERVICES:
        publish = perms[svc]["publish"]
        assert subject_allowed(f"mynumber.{svc}.v1.person.changed", publish), svc
        assert subject_allowed(f"mynumber.deadletter.{svc}.v1.person.changed", publish), svc
        for other in NATS_SERVICES:
            if other != svc:
                assert not subject_allowed(f"mynumber.{other}.v1.person.changed", publish), (svc, other)
                assert not subject_allowed(f"mynumber.deadletter.{other}.v1.x", publish), (svc, other)
        # Nothing wide: no stream deletion, no purge, no other service's stream configuration, no `>` at all.
        assert not any(p in (">", "mynumber.>", "$JS.API.>") for p in publish), svc
        assert not subject_allowed("$JS.API.STREAM.DELETE.MYNUMBER_NUMBERING", publish)
        assert not subject_allowed("$JS.API.STREAM.PURGE.MYNUMBER_DEADLETTER", publish)
        assert not subject_allowed("$JS.API.STREAM.UPDATE.MYNUMBER_DEADLETTER", publish)
        # Replies only on its own inbox: no one reads another user's fetched events or acknowledgements.
        assert perms[svc]["subscribe"] == [f"_INBOX.{svc}.>"]
    assert not subject_allowed("$JS.API.STREAM.UPDATE.MYNUMBER_NUMBERING", perms["notice"]["publish"])
    assert subject_allowed("$JS.API.CONSUMER.CREATE.MYNUMBER_NUMBERING.notice.mynumber.numbering.v1.number.assigned",
                           perms["notice"]["publish"])
    assert not subject_allowed("$JS.API.CONSUMER.CREATE.MYNUMBER_NUMBERING.notice.mynumber.numbering.>",
                               perms["notice"]["publish"])
    # operator: the JetStream API for SRE tools, but no service's events.
    assert not any(subject_allowed(f"mynumber.{s}.v1.x", perms["operator"]["publish"]) for s in NATS_SERVICES)


def test_chart_nats_users_are_the_runtime_table_make_run_and_the_tests_use() -> None:
    spec = importlib.util.spec_from_file_location("charts_nats_users", CHARTS / "nats_users.py")
    assert spec and spec.loader
    nats_users = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nats_users)
    assert (CHARTS / "mynumber" / nats_users.FILE).read_text(encoding="utf-8") == nats_users.text(), \
        "charts/mynumber/files/nats-users.json is stale: run charts/nats_users.py"


def test_a_drifted_nats_table_fails_the_check(chart_copy: Path) -> None:
    replace_in(chart_copy / "files" / "nats-users.json", '"mynumber.notice.>"', '"mynumber.>"')
    result = check.run(chart_copy, {"east": ("values-east.yaml",)})
    assert any("nats-users.json" in p and "charts/nats_users.py" in p for p in result.problems), result.problems


@pytest.mark.parametrize("region", REGIONS)
def test_each_service_pod_mounts_only_its_own_nats_password_and_its_settings_point_at_it(
        report: Any, region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from jpki.settings import JpkiSettings
    from notice.settings import NoticeSettings
    from numbering.settings import NumberingSettings

    classes = {"numbering": (NumberingSettings, "NUMBERING_"), "notice": (NoticeSettings, "NOTICE_"),
               "jpki": (JpkiSettings, "JPKI_")}
    for svc, (cls, prefix) in classes.items():
        d = one(report, region, "Deployment", svc)
        settings = settings_of(d, svc, cls, prefix, monkeypatch)
        assert settings.nats.user == svc
        assert secret_behind(d, settings.nats.password_file) == f"nats-user-{svc}"
        mounted = {v["secret"]["secretName"] for v in volumes_of(d).values() if "secret" in v}
        assert {s for s in mounted if s.startswith("nats-user-")} == {f"nats-user-{svc}"}
    # No NATS for the workloads that do not use it: no password either.
    for name in ("gateway", "jpki-responder"):
        d = one(report, region, "Deployment", name)
        assert not [s for s in volumes_of(d).values() if s.get("secret", {}).get("secretName", "").startswith("nats")]
    # The NATS server reads every password in its init container only; the server container mounts none.
    nats = one(report, region, "StatefulSet", "nats")
    users = {v["secret"]["secretName"] for v in volumes_of(nats).values() if "secret" in v} - {"nats-gateway-tls"}
    assert users == {f"nats-user-{u}" for u in (*NATS_SERVICES, "operator")}
    server_mounts = {m["name"] for m in container(nats)["volumeMounts"]}
    assert not [n for n in server_mounts if n.startswith("user-")]
    assert volumes_of(nats)["config"]["emptyDir"]["medium"] == "Memory"
    # The streams Job acts as operator.
    job = one(report, region, "Job", "jetstream-streams")
    assert volumes_of(job)["nats-user"]["secret"]["secretName"] == "nats-user-operator"


@pytest.mark.parametrize("region", REGIONS)
def test_no_nats_password_literal_in_rendered_manifests(report: Any, region: str) -> None:
    conf = one(report, region, "ConfigMap", "nats-config")["data"]["nats.conf"]
    settings = [line for line in conf.splitlines() if not line.strip().startswith("#")]
    # Only `include auth.conf`, made at pod start from the Secrets.
    assert not [line for line in settings if "password" in line or "authorization" in line]
    assert "include auth.conf" in settings
    for name, spec in pod_specs(report, region):
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            for e in c.get("env", []):
                assert "PASSWORD" not in e["name"] or (e["name"].endswith("_FILE") and "value" in e
                                                        and e["value"].startswith("/")), (name, e["name"])


def test_a_nats_password_typed_into_values_is_refused(chart_copy: Path) -> None:
    def edit(east: dict[str, Any]) -> None:
        east["nats"]["auth"] = {"secretPrefix": "nats-user-", "secretKey": "password", "password": "hunter2"}

    result = check_with_values(chart_copy, edit)
    assert any("/nats/auth" in p and "password" in p for p in result.problems), result.problems
    assert not any("hunter2" in p for p in result.problems if "Additional properties" not in p)


def test_nats_init_refuses_a_password_it_cannot_quote_naming_the_secret_never_the_value(
        report: Any, tmp_path: Path) -> None:
    passwords = {u: "p" + u.replace("-", "") for u in (*NATS_SERVICES, "operator")}
    passwords["jpki"] = 'se"cret\\value'
    done = render_nats_auth(report, "east", tmp_path, passwords)
    assert done.returncode != 0
    assert "Secret nats-user-jpki" in done.stderr and "se\"cret" not in done.stderr and "value" not in done.stderr
    assert not (tmp_path / "conf" / "auth.conf").exists()


def test_nats_server_with_the_rendered_users_refuses_anonymous_and_another_services_subject(
        report: Any, tmp_path: Path) -> None:
    import asyncio
    import secrets as token

    import nats
    from mynumber_runtime.embedded import free_port, nats_server_binary

    passwords = {u: token.token_hex(16) for u in (*NATS_SERVICES, "operator")}
    done = render_nats_auth(report, "east", tmp_path, passwords)
    assert done.returncode == 0, done.stderr
    port = free_port()
    # The rendered users with a loopback listener (the cluster, gateway and TLS parts need Kubernetes).
    (tmp_path / "conf" / "nats.conf").write_text(
        f"listen: 127.0.0.1:{port}\njetstream {{store_dir: {tmp_path / 'js'}}}\ninclude auth.conf\n",
        encoding="utf-8")
    proc = subprocess.Popen([nats_server_binary(), "-c", str(tmp_path / "conf" / "nats.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def scenario() -> None:
        url = f"nats://127.0.0.1:{port}"
        for _ in range(100):
            try:
                probe = await nats.connect(url, user="numbering", password=passwords["numbering"],
                                           inbox_prefix="_INBOX.numbering", allow_reconnect=False,
                                           connect_timeout=1)
                break
            except Exception:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("nats-server did not accept numbering's password")
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        numbering = await nats.connect(url, user="numbering", password=passwords["numbering"],
                                       inbox_prefix="_INBOX.numbering", error_cb=on_error, allow_reconnect=False)
        await numbering.publish("mynumber.notice.v1.envelope.prepared", b"forged")
        await numbering.publish("mynumber.numbering.v1.number.assigned", b"own")
        await numbering.flush()
        try:
            await asyncio.wait_for(_until(lambda: errors), 5)
        except TimeoutError:
            raise AssertionError("numbering's publish to mynumber.notice... was not refused") from None
        assert any("permissions violation" in e.lower() and "mynumber.notice" in e for e in errors), errors
        assert not any("mynumber.numbering.v1" in e for e in errors), errors
        js = numbering.jetstream()
        from mynumber_runtime.streams import ensure_stream
        assert await ensure_stream(js, "numbering") == "MYNUMBER_NUMBERING"  # its own JetStream calls pass
        ack = await js.publish("mynumber.numbering.v1.number.assigned", b"own")
        assert ack.stream == "MYNUMBER_NUMBERING"
        await numbering.close()
        await probe.close()
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0)
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await nats.connect(url, user="numbering", password=passwords["notice"], allow_reconnect=False,
                               connect_timeout=2, max_reconnect_attempts=0)

    try:
        asyncio.run(scenario())
    finally:
        proc.terminate()
        proc.wait(10)


async def _until(condition: Callable[[], object]) -> None:
    import asyncio

    while not condition():
        await asyncio.sleep(0.01)


# --- metrics (docs/operations.md) --------------------------------------------------------------------------------

# Their images run mynumber_runtime.host, which serves /metrics.
METRICS_SERVICES = ("numbering", "notice", "jpki", "issuance", "gateway")


@pytest.mark.parametrize("region", REGIONS)
def test_each_service_serves_metrics_on_its_own_port_reachable_by_the_scraper_only(report: Any, region: str) -> None:
    values = check.load_values(check.CHART, ("values.yaml", f"values-{region}.yaml"))
    port, scraper = values["metrics"]["port"], values["metrics"]["scraper"]
    for name in METRICS_SERVICES:
        d = one(report, region, "Deployment", name)
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container(d)["ports"]
        assert env_of(d)[f"{values['services'][name]['envPrefix']}_METRICS__LISTEN"] == f"0.0.0.0:{port}"
        service = one(report, region, "Service", name)
        assert {"name": "metrics", "port": port, "targetPort": "metrics", "protocol": "TCP"} in \
            service["spec"]["ports"]
        rules = [r for r in one(report, region, "NetworkPolicy", name)["spec"]["ingress"]
                 if {"port": port, "protocol": "TCP"} in r["ports"]]
        assert rules == [{"from": [{"namespaceSelector": {"matchLabels": {
                              "kubernetes.io/metadata.name": scraper["namespace"]}},
                                    "podSelector": {"matchLabels": scraper["podLabels"]}}],
                          "ports": [{"port": port, "protocol": "TCP"}]}], name
        monitor = one(report, region, "ServiceMonitor", name)["spec"]
        assert monitor["selector"]["matchLabels"] == service["spec"]["selector"]
        assert monitor["namespaceSelector"] == {"matchNames": [check.NAMESPACE]}
        assert [(e["port"], e["path"], e["scheme"]) for e in monitor["endpoints"]] == [("metrics", "/metrics", "http")]
    # What serves no /metrics gets no port, no ServiceMonitor: the HTTP responder.
    assert {d["metadata"]["name"] for d in docs(report, region, "ServiceMonitor")} == set(METRICS_SERVICES)
    for name in ("jpki-responder",):
        assert "metrics" not in {p["name"] for p in container(one(report, region, "Deployment", name))["ports"]}


def test_service_monitors_only_when_switched_on_and_dev_has_none(report: Any) -> None:
    assert docs(report, "east+dev", "ServiceMonitor") == []
    defaults = check.load_values(check.CHART, ("values.yaml",))
    assert defaults["metrics"]["serviceMonitor"]["enabled"] is False  # needs the Prometheus Operator's CRD
    # The metrics port itself does not depend on the switch.
    assert "metrics" in {p["name"] for p in container(one(report, "east+dev", "Deployment", "numbering"))["ports"]}


def test_a_service_monitor_with_an_unknown_field_fails_its_crd_schema(chart_copy: Path) -> None:
    replace_in(chart_copy / "templates" / "_helpers.tpl", "      scrapeTimeout: {{ $sm.scrapeTimeout }}",
               "      scrapeTimout: {{ $sm.scrapeTimeout }}")
    result = check.run(chart_copy, {"east": ("values-east.yaml",)})
    assert any("ServiceMonitor/numbering" in p and "scrapeTimout" in p for p in result.problems), result.problems


def test_the_pods_metrics_setting_is_what_the_service_reads(report: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from numbering.settings import NumberingSettings

    settings = settings_of(one(report, "east", "Deployment", "numbering"), "numbering", NumberingSettings,
                           "NUMBERING_", monkeypatch)
    assert settings.metrics.listen == "0.0.0.0:9464"
