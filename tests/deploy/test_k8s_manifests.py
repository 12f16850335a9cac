"""The Kubernetes manifests: render every overlay, validate it offline against the Kubernetes
1.30 schemas (scripts/validate_k8s.sh), then check the invariants a schema cannot see.

No cluster runs here; these tests are what stands between a typo and a failed rollout.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate_k8s.sh"

OVERLAYS = ("dev", "prod", "prod-with-operators")
PROD_OVERLAYS = ("prod", "prod-with-operators")
NAMESPACE = {"dev": "tryon-dev", "prod": "tryon", "prod-with-operators": "tryon"}

# Deployment -> (Celery queue it consumes, metrics port) for every Celery worker.
WORKERS = {
    "recon": ("recon", 9101),
    "render": ("render", 9102),
    "render-batch": ("batch", 9102),
    "render-stream": ("stream", 9102),
    "recsys": ("recsys", 9103),
}
GATEWAY_GRPC_PORT = 50051
GATEWAY_METRICS_PORT = 9100
# The web studio (services/web): browsers' HTTP + WebSocket port, its Service port, metrics.
WEB_HTTP_PORT = 8080
WEB_SERVICE_PORT = 80
WEB_METRICS_PORT = 9106
APP_UID = 10001
# Secrets an operator creates out of band in production (README.md): never in the manifests.
EXTERNAL_SECRETS = {"tryon-api-keys", "tryon-redis", "tryon-database"}
# The only Secret the web studio may see: it forwards browsers' publishable keys and must never
# hold a secret API key (nor the database's credentials).
WEB_SECRETS = {"tryon-redis"}

CLUSTER_SCOPED = {"Namespace", "PriorityClass", "ClusterRole", "ClusterRoleBinding"}

Doc = dict


# --- rendering --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Doc]]:
    out = tmp_path_factory.mktemp("k8s")
    proc = subprocess.run(
        ["bash", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=240, cwd=ROOT
    )
    assert proc.returncode == 0, f"validate_k8s.sh failed:\n{proc.stdout}\n{proc.stderr}"
    docs = {}
    for path in sorted(out.glob("*.yaml")):
        docs[path.stem] = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_every_overlay_renders_and_validates(rendered: dict[str, list[Doc]]) -> None:
    assert set(rendered) == set(OVERLAYS)
    for name, docs in rendered.items():
        assert len(docs) > 10, name


def test_validation_catches_a_bad_manifest(tmp_path: Path) -> None:
    """The validator itself must fail on a wrong type and on an unknown apiVersion (the latter
    is only a warning in kubernetes-validate; the script turns it into an error)."""
    overlays = tmp_path / "deploy" / "k8s" / "overlays"
    for name, body in {
        "badtype": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n",
        "badapi": "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n",
    }.items():
        (overlays / name).mkdir(parents=True)
        (overlays / name / "cm.yaml").write_text(body)
        (overlays / name / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "validate_k8s.sh").write_text(SCRIPT.read_text())
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    proc = subprocess.run(
        ["bash", str(scripts / "validate_k8s.sh"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL badtype" in proc.stderr and "FAIL badapi" in proc.stderr


# --- helpers ----------------------------------------------------------------------------------


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def by_name(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]


def containers(docs: list[Doc], init: bool = True) -> Iterator[tuple[str, Doc]]:
    for name, spec in pod_specs(docs):
        for c in spec["containers"] + (spec.get("initContainers", []) if init else []):
            yield f"{name}/{c['name']}", c


def container_env(docs: list[Doc], c: Doc) -> dict[str, str]:
    """Environment as the kubelet builds it: envFrom ConfigMaps, then env (values only)."""
    maps = by_name(docs, "ConfigMap")
    env: dict[str, str] = {}
    for src in c.get("envFrom", []):
        env.update(maps[src["configMapRef"]["name"]].get("data", {}))
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", f"<from:{sorted(e.get('valueFrom', {}))}>")
    return env


def main_container(docs: list[Doc], deployment: str) -> Doc:
    return by_name(docs, "Deployment")[deployment]["spec"]["template"]["spec"]["containers"][0]


def port_named(c: Doc, name: str) -> int:
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    return ports[name]


def probe_port(c: Doc, probe: Doc) -> int:
    for handler in ("httpGet", "grpc", "tcpSocket"):
        if handler in probe:
            port = probe[handler]["port"]
            return port_named(c, port) if isinstance(port, str) else port
    raise AssertionError(f"no network handler in {probe}")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pod_labels(docs: list[Doc]) -> list[dict[str, str]]:
    return [
        d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
    ]


def port_matches(rule_port: int | str, c: Doc, port: int) -> bool:
    if isinstance(rule_port, str):
        return any(p["name"] == rule_port and p["containerPort"] == port for p in c["ports"])
    return rule_port == port


def peer_admits(peer: Doc, src: dict[str, str] | None, same_namespace: bool) -> bool:
    """One `from` entry against a source: a pod's labels, or None for outside the cluster."""
    if "ipBlock" in peer:
        return peer["ipBlock"]["cidr"] in ("0.0.0.0/0", "::/0") and not peer["ipBlock"].get(
            "except"
        )
    if src is None:
        return False
    pod_ok = selects(peer.get("podSelector", {}).get("matchLabels", {}), src)
    if "namespaceSelector" in peer:
        return peer["namespaceSelector"] == {} and pod_ok  # only "any namespace" is decidable
    return same_namespace and pod_ok


def ingress_admits(
    docs: list[Doc],
    deployment: str,
    port: int,
    src: dict[str, str] | None,
    same_namespace: bool = True,
) -> bool:
    """Whether the rendered NetworkPolicies let `src` open a connection to `port` of the pods of
    `deployment` (podSelector/namespaceSelector by labels; egress is checked separately)."""
    dep = by_name(docs, "Deployment")[deployment]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    policies = [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
    ]
    if not policies:
        return True
    for pol in policies:
        for rule in pol["spec"].get("ingress", []):
            if "ports" in rule and not any(port_matches(p["port"], c, port) for p in rule["ports"]):
                continue
            if "from" not in rule or any(
                peer_admits(peer, src, same_namespace) for peer in rule["from"]
            ):
                return True
    return False


def egress_restricted(docs: list[Doc], labels: dict[str, str]) -> bool:
    return any(
        "Egress" in p["spec"].get("policyTypes", [])
        and selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
        for p in of_kind(docs, "NetworkPolicy")
    )


def template_labels(docs: list[Doc], deployment: str) -> dict[str, str]:
    return by_name(docs, "Deployment")[deployment]["spec"]["template"]["metadata"]["labels"]


# Workers that are not Celery workers: the queue (a Redis list) each pops, by its argv.
PLAIN_WORKERS = {"services.render.stream_worker": "stream"}


def queue_of(c: Doc) -> str | None:
    argv = c.get("command", []) + c.get("args", [])
    for module, queue in PLAIN_WORKERS.items():
        if argv[:3] == ["python", "-m", module]:
            return queue
    if "worker" not in argv or "-Q" not in argv:
        return None
    return argv[argv.index("-Q") + 1]


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, list[Doc]]) -> tuple[str, list]:
    return request.param, rendered[request.param]


# --- every overlay ----------------------------------------------------------------------------


def test_every_container_has_requests_and_limits(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name, c in containers(docs):
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                assert r in res.get(part, {}), f"{name}: no {part}.{r}"


def test_every_container_has_probes(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name, c in containers(docs, init=False):
        assert "livenessProbe" in c, name
        assert "readinessProbe" in c, name


def test_pods_meet_the_restricted_pod_security_standard(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name, spec in pod_specs(docs):
        psc = spec.get("securityContext", {})
        assert psc.get("runAsNonRoot") is True, name
        assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        assert spec.get("automountServiceAccountToken") is False, name
        for vol in spec.get("volumes", []):
            assert set(vol) & {"emptyDir", "secret", "configMap", "projected"}, (name, vol)
    for name, c in containers(docs):
        sc = c.get("securityContext", {})
        assert sc.get("allowPrivilegeEscalation") is False, name
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], name
        assert not sc.get("capabilities", {}).get("add"), name
        assert not sc.get("privileged"), name
        assert sc.get("readOnlyRootFilesystem") is True, name


def test_tryon_pods_run_as_the_image_user(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name, spec in pod_specs(docs):
        if spec["containers"][0]["image"].split("/")[-1].startswith("tryon:"):
            assert spec["securityContext"]["runAsUser"] == APP_UID, name


def test_images_are_pinned(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name, c in containers(docs):
        image = c["image"]
        last = image.split("/")[-1]
        assert "@sha256:" in image or ":" in last, f"{name}: untagged image {image}"
        tag = last.split("@")[0].split(":")[1] if ":" in last.split("@")[0] else ""
        assert tag != "latest", f"{name}: {image}"


def test_no_selfie_ever_reaches_a_disk(overlay: tuple[str, list[Doc]]) -> None:
    """No persistent volumes anywhere; scratch space the apps write to is RAM-backed."""
    _, docs = overlay
    assert not of_kind(docs, "PersistentVolumeClaim")
    assert not of_kind(docs, "StatefulSet")
    for name, spec in pod_specs(docs):
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            for m in c.get("volumeMounts", []):
                if m["mountPath"] in ("/tmp", "/data"):
                    assert vols[m["name"]]["emptyDir"].get("medium") == "Memory", (name, m)


def test_every_namespaced_object_lands_in_the_overlay_namespace(
    overlay: tuple[str, list[Doc]],
) -> None:
    name, docs = overlay
    ns = NAMESPACE[name]
    assert [d["metadata"]["name"] for d in of_kind(docs, "Namespace")] == [ns]
    for d in docs:
        if d["kind"] not in CLUSTER_SCOPED:
            assert d["metadata"].get("namespace") == ns, (d["kind"], d["metadata"]["name"])


def test_references_resolve(overlay: tuple[str, list[Doc]]) -> None:
    """ConfigMaps, Secrets, Service / PDB / NetworkPolicy selectors and HPA targets all point at
    something that exists (kustomize renames hashed generators; a typo would go unnoticed)."""
    name, docs = overlay
    maps = set(by_name(docs, "ConfigMap"))
    secrets = set(by_name(docs, "Secret"))
    if name in PROD_OVERLAYS:
        assert not secrets, "production secrets must not live in the manifests"
        secrets |= EXTERNAL_SECRETS
    for cname, c in containers(docs):
        for src in c.get("envFrom", []):
            assert src["configMapRef"]["name"] in maps, cname
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] in secrets, (cname, ref)
    for pname, spec in pod_specs(docs):
        for vol in spec.get("volumes", []):
            if "secret" in vol:
                assert vol["secret"]["secretName"] in secrets, (pname, vol)
    labels = pod_labels(docs)
    for svc in of_kind(docs, "Service"):
        assert any(selects(svc["spec"]["selector"], lb) for lb in labels), svc["metadata"]
    for pdb in of_kind(docs, "PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        assert any(selects(sel, lb) for lb in labels), pdb["metadata"]
    for pol in of_kind(docs, "NetworkPolicy"):
        sel = pol["spec"]["podSelector"].get("matchLabels", {})
        assert any(selects(sel, lb) for lb in labels), pol["metadata"]
    services = by_name(docs, "Service")
    for ing in of_kind(docs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services, ing["metadata"]
                port = backend["port"]
                assert any(
                    p.get("name") == port.get("name") if "name" in port else p["port"] == port
                    for p in services[backend["name"]]["spec"]["ports"]
                ), ing["metadata"]
    deployments = by_name(docs, "Deployment")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, hpa["metadata"]
        assert "replicas" not in deployments[target]["spec"], (
            f"{target}: the HPA owns replicas; a fixed count resets it on every apply"
        )


def test_the_beat_scheduler_is_a_singleton(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    beats = [
        (n, d)
        for n, d in by_name(docs, "Deployment").items()
        if "beat" in main_container(docs, n).get("args", [])
    ]
    assert [n for n, _ in beats] == ["recsys-beat"]
    beat = beats[0][1]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate", "a rolling update runs two beats"
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    scaled |= {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(docs, "ScaledObject")}
    assert "recsys-beat" not in scaled


def test_workers_consume_their_own_queues(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    queues = {
        n: queue_of(main_container(docs, n))
        for n in by_name(docs, "Deployment")
        if queue_of(main_container(docs, n))
    }
    assert queues == {n: q for n, (q, _) in WORKERS.items()}
    for n in WORKERS:
        argv = main_container(docs, n)["args"]
        if argv[:2] == ["python", "-m"]:
            assert argv[2] in PLAIN_WORKERS, argv
            assert argv[argv.index("--processes") + 1] == "1", n
            continue
        assert argv[:3] == ["celery", "-A", f"services.{n.split('-')[0]}.worker"], argv
        assert argv[argv.index("--concurrency") + 1] == "1", n


def test_metrics_ports_match_env_annotations_probes_and_services(
    overlay: tuple[str, list[Doc]],
) -> None:
    _, docs = overlay
    expected = {n: port for n, (_, port) in WORKERS.items()} | {
        "gateway": GATEWAY_METRICS_PORT,
        "web": WEB_METRICS_PORT,
    }
    deployments = by_name(docs, "Deployment")
    services = of_kind(docs, "Service")
    for name, port in expected.items():
        dep = deployments[name]
        c = main_container(docs, name)
        env = container_env(docs, c)
        assert int(env["TRYON_METRICS_PORT"]) == port, name
        assert port_named(c, "metrics") == port, name
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        assert ann["prometheus.io/scrape"] == "true" and int(ann["prometheus.io/port"]) == port
        labels = dep["spec"]["template"]["metadata"]["labels"]
        metric_svcs = [
            s
            for s in services
            if selects(s["spec"]["selector"], labels)
            and any(p["name"] == "metrics" for p in s["spec"]["ports"])
        ]
        assert len(metric_svcs) == 1, name
        svc = metric_svcs[0]
        assert svc["metadata"]["labels"].get("tryon.io/metrics") == "true"
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", "metrics stay in-cluster"
        if name == "web":
            # services.web binds its metrics server to 127.0.0.1 unless told otherwise.
            assert env["TRYON_METRICS_ADDR"] == "0.0.0.0", "Prometheus scrapes the pod IP"
        if name in WORKERS:
            assert env["PROMETHEUS_MULTIPROC_DIR"] in {m["mountPath"] for m in c["volumeMounts"]}, (
                name
            )
            for probe in ("livenessProbe", "readinessProbe"):
                assert probe_port(c, c[probe]) == port, (name, probe)


def test_the_gateway_serves_grpc_on_50051(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    c = main_container(docs, "gateway")
    env = container_env(docs, c)
    assert env["TRYON_GRPC_ADDR"].rsplit(":", 1)[1] == str(GATEWAY_GRPC_PORT)
    assert port_named(c, "grpc") == GATEWAY_GRPC_PORT
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["grpc"]["port"] == GATEWAY_GRPC_PORT, probe
    svc = by_name(docs, "Service")["gateway"]
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        (GATEWAY_GRPC_PORT, "grpc")
    ]
    keys_file = env["TRYON_API_KEYS_FILE"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert str(Path(keys_file).parent) in mounts and mounts[str(Path(keys_file).parent)]["readOnly"]
    labels = template_labels(docs, "gateway")
    for public in (s for s in of_kind(docs, "Service") if s["spec"].get("type") == "LoadBalancer"):
        if selects(public["spec"]["selector"], labels):
            assert [p["port"] for p in public["spec"]["ports"]] == [GATEWAY_GRPC_PORT], (
                "only gRPC goes public, never metrics"
            )


def test_the_gateway_reads_publishable_keys_from_the_database(
    overlay: tuple[str, list[Doc]],
) -> None:
    """Publishable keys live in the platform's database (services/gateway/publishable_keys.py):
    the gateway gets DATABASE_URL from the same Secret as the catalog's workers."""
    _, docs = overlay
    refs = {}
    for name in ("gateway", "render", "recsys"):
        (db,) = [e for e in main_container(docs, name)["env"] if e["name"] == "DATABASE_URL"]
        refs[name] = db["valueFrom"]["secretKeyRef"]
    assert refs["gateway"] == refs["render"] == refs["recsys"], refs
    assert refs["gateway"]["name"].startswith("tryon-database")


def test_no_public_entry_point_reaches_a_metrics_port(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    services = by_name(docs, "Service")
    for svc in services.values():
        if svc["spec"].get("type") in ("LoadBalancer", "NodePort"):
            assert all(p["targetPort"] != "metrics" for p in svc["spec"]["ports"]), svc["metadata"]
    for ing in of_kind(docs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert not backend["name"].endswith("-metrics"), ing["metadata"]
                assert backend["port"].get("name") != "metrics", ing["metadata"]


def test_the_web_studio_serves_http_on_8080(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    dep = by_name(docs, "Deployment")["web"]
    spec = dep["spec"]["template"]["spec"]
    c = main_container(docs, "web")
    env = container_env(docs, c)
    assert c["args"] == ["python", "-m", "services.web"]
    host, port = env["TRYON_WEB_ADDR"].rsplit(":", 1)
    assert (host, int(port)) == ("0.0.0.0", WEB_HTTP_PORT), "reachable on the pod IP"
    assert port_named(c, "http") == WEB_HTTP_PORT
    # Ready only when the gateway answers (GET /healthz); alive regardless of the gateway, so a
    # gateway outage never restarts every web pod.
    ready = c["readinessProbe"]
    assert ready["httpGet"]["path"] == "/healthz" and probe_port(c, ready) == WEB_HTTP_PORT
    for probe in ("startupProbe", "livenessProbe"):
        assert probe_port(c, c[probe]) == WEB_HTTP_PORT, probe
        assert c[probe].get("httpGet", {}).get("path") != "/healthz", probe
    assert c["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    keys = {t["topologyKey"] for t in spec["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    # It reaches the gateway through the gateway's Service, on its gRPC port.
    gw_host, gw_port = env["TRYON_GRPC_ADDR"].rsplit(":", 1)
    gw_svc = by_name(docs, "Service")[gw_host]
    assert selects(gw_svc["spec"]["selector"], template_labels(docs, "gateway"))
    assert int(gw_port) in {p["port"] for p in gw_svc["spec"]["ports"]}
    svc = by_name(docs, "Service")["web"]
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        (WEB_SERVICE_PORT, "http")
    ]


def test_the_web_studio_holds_no_secret_key(overlay: tuple[str, list[Doc]]) -> None:
    """The studio only forwards browsers' publishable keys: no API-key Secret mounted or
    referenced, no key in its environment, no Secret at all but Redis' URL."""
    _, docs = overlay
    spec = by_name(docs, "Deployment")["web"]["spec"]["template"]["spec"]
    for vol in spec.get("volumes", []):
        assert "secret" not in vol, vol
        for source in vol.get("projected", {}).get("sources", []):
            assert "secret" not in source, vol
    for c in spec["containers"] + spec.get("initContainers", []):
        for src in c.get("envFrom", []):
            assert "secretRef" not in src, src
        env = container_env(docs, c)
        assert not {"TRYON_API_KEY", "TRYON_API_KEYS", "TRYON_API_KEYS_FILE"} & set(env), env
        assert "DATABASE_URL" not in env, "the studio never talks to the database"
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        # dev's secretGenerator appends a hash: tryon-redis-<hash>
        assert {r if r in WEB_SECRETS else r.rsplit("-", 1)[0] for r in refs} <= WEB_SECRETS, refs


def test_network_policies_admit_the_web_studio_and_its_calls(
    overlay: tuple[str, list[Doc]],
) -> None:
    """Browsers reach the studio from anywhere; the studio reaches the gateway; Prometheus
    scrapes it; in dev the gateway reaches PostgreSQL and the studio Redis (in prod both are
    managed, outside the cluster, and egress is open)."""
    name, docs = overlay
    web, gateway = template_labels(docs, "web"), template_labels(docs, "gateway")
    assert ingress_admits(docs, "web", WEB_HTTP_PORT, None), "browsers from outside the cluster"
    assert ingress_admits(docs, "gateway", GATEWAY_GRPC_PORT, web)
    assert ingress_admits(docs, "web", WEB_METRICS_PORT, {"app": "prometheus"}, False)
    assert not ingress_admits(docs, "web", WEB_METRICS_PORT, None), "metrics stay in-cluster"
    assert not egress_restricted(docs, web) and not egress_restricted(docs, gateway), (
        "egress rules now exist: check the studio -> gateway/Redis and gateway -> PostgreSQL"
    )
    if name == "dev":
        assert ingress_admits(docs, "postgres", 5432, gateway)
        assert ingress_admits(docs, "redis", 6379, web)
        assert ingress_admits(docs, "redis", 6379, gateway)


def test_configuration_is_accepted_by_the_services(
    overlay: tuple[str, list[Doc]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feed each container's rendered environment (alone) to the real settings parsers."""
    from services.common.settings import MAX_IMAGE_TTL_SECONDS, Settings
    from services.web.settings import WebSettings

    _, docs = overlay
    for name in ["gateway", "web", *WORKERS]:
        env = container_env(docs, main_container(docs, name))
        with monkeypatch.context() as mp:
            for key in [k for k in os.environ if k.startswith("TRYON_")]:
                mp.delenv(key)
            for key, value in env.items():
                if key.startswith("TRYON_") and not value.startswith("<from:"):
                    mp.setenv(key, value)
            settings = Settings.from_env()
            web = WebSettings.from_env() if name == "web" else None
        assert settings.image_ttl_seconds <= MAX_IMAGE_TTL_SECONDS, name
        assert env["TRYON_MODEL_DIR"] == "/app/models", name
        assert env["REDIS_URL"].startswith("<from:"), f"{name}: REDIS_URL must come from a Secret"
        if name == "gateway":
            # Swatch links point at the studio's /swatches route (services/web/pages.py).
            assert re.fullmatch(r"https?://[^/]+/swatches", settings.swatch_base_url), name
        if web is not None:
            assert (web.host, web.port) == ("0.0.0.0", WEB_HTTP_PORT)
            assert web.gateway_addr == f"gateway:{GATEWAY_GRPC_PORT}"


# --- per overlay ------------------------------------------------------------------------------


def test_dev_runs_inference_in_process_with_a_throwaway_redis(
    rendered: dict[str, list[Doc]],
) -> None:
    docs = rendered["dev"]
    assert container_env(docs, main_container(docs, "recon"))["TRITON_URL"] == ""
    assert "triton" not in by_name(docs, "Deployment")
    assert not of_kind(docs, "HorizontalPodAutoscaler")
    for name, dep in by_name(docs, "Deployment").items():
        assert dep["spec"]["replicas"] == 1, name
    redis = main_container(docs, "redis")
    argv = redis.get("command", []) + redis.get("args", [])
    assert argv[argv.index("--save") + 1] == "", "RDB snapshots would write selfies to disk"
    assert argv[argv.index("--appendonly") + 1] == "no", "AOF would write selfies to disk"
    assert by_name(docs, "Service")["redis"]["spec"]["ports"][0]["port"] == 6379
    secrets = {s["metadata"]["name"].rsplit("-", 1)[0] for s in of_kind(docs, "Secret")}
    assert secrets == EXTERNAL_SECRETS


@pytest.mark.parametrize("name", PROD_OVERLAYS)
def test_prod_sends_inference_to_triton_on_a_gpu(rendered: dict[str, list[Doc]], name: str) -> None:
    docs = rendered[name]
    assert "redis" not in by_name(docs, "Deployment"), "production uses a managed Redis"
    url = container_env(docs, main_container(docs, "recon"))["TRITON_URL"]
    host, port = url.split(":")
    svc = by_name(docs, "Service")[host]
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]} == {
        "http": 8000,
        "grpc": int(port),
        "metrics": 8002,
    }
    assert port == "8001"
    dep = by_name(docs, "Deployment")["triton"]
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    assert re.fullmatch(r"nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3", c["image"]), c["image"]
    assert "--model-repository=/models" in c["command"] + c.get("args", [])
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert {p["containerPort"] for p in c["ports"]} == {8000, 8001, 8002}
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    # The model repository comes out of the tryon image of the same release.
    init = spec["initContainers"][0]
    assert init["image"] == main_container(docs, "recon")["image"]
    assert "/app/deploy/triton/model_repository/." in init["command"]
    assert by_name(docs, "Service")["gateway-public"]["spec"]["type"] == "LoadBalancer"
    hpas = by_name(docs, "HorizontalPodAutoscaler")
    assert hpas["gateway"]["spec"]["minReplicas"] >= 2
    assert hpas["web"]["spec"]["minReplicas"] >= 2


def _size_bytes(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kmg]?)", text.strip().lower())
    assert m, text
    return int(m[1]) << {"": 0, "k": 10, "m": 20, "g": 30}[m[2]]


@pytest.mark.parametrize("name", PROD_OVERLAYS)
def test_prod_exposes_the_web_studio_over_https(
    rendered: dict[str, list[Doc]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The studio's public entry: HTTPS at its host, WebSockets not cut by the proxy's idle
    timeout, photo uploads not refused by the proxy, the forwarded scheme and client address
    trusted (the studio compares Origin with its own https origin), and swatch links on the
    same host."""
    from services.web.settings import WebSettings

    docs = rendered[name]
    (ing,) = of_kind(docs, "Ingress")
    (rule,) = ing["spec"]["rules"]
    host = rule["host"]
    assert [p["backend"]["service"] for p in rule["http"]["paths"]] == [
        {"name": "web", "port": {"name": "http"}}
    ]
    assert any(host in t["hosts"] and t["secretName"] for t in ing["spec"]["tls"])
    ann = ing["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(ann[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 600, timeout
    env = container_env(docs, main_container(docs, "web"))
    monkeypatch.setenv("TRYON_WEB_MAX_PHOTO_BYTES", env.get("TRYON_WEB_MAX_PHOTO_BYTES", ""))
    body = _size_bytes(ann["nginx.ingress.kubernetes.io/proxy-body-size"])
    assert body >= WebSettings.from_env().max_photo_bytes
    assert env["FORWARDED_ALLOW_IPS"], "uvicorn must trust the ingress controller's headers"
    gateway = container_env(docs, main_container(docs, "gateway"))
    assert gateway["TRYON_SWATCH_BASE_URL"] == f"https://{host}/swatches"
    assert not [
        s
        for s in of_kind(docs, "Service")
        if s["spec"].get("type") in ("LoadBalancer", "NodePort")
        and selects(s["spec"]["selector"], template_labels(docs, "web"))
    ], "the studio is public only through the Ingress (it needs X-Forwarded-Proto)"


def test_keda_scales_each_worker_on_its_own_queue(rendered: dict[str, list[Doc]]) -> None:
    """The CRDs have no schema offline: check their wiring here instead."""
    docs = rendered["prod-with-operators"]
    deployments = by_name(docs, "Deployment")
    auths = set(by_name(docs, "TriggerAuthentication"))
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    scaled = {}
    for so in of_kind(docs, "ScaledObject"):
        target = so["spec"]["scaleTargetRef"]["name"]
        assert target in deployments and target not in hpa_targets, target
        assert so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"]
        redis = [t for t in so["spec"]["triggers"] if t["type"] == "redis"]
        assert len(redis) == 1, target
        assert redis[0]["authenticationRef"]["name"] in auths
        assert int(redis[0]["metadata"]["listLength"]) > 0
        scaled[target] = redis[0]["metadata"]["listName"]
    assert scaled == {n: queue_of(main_container(docs, n)) for n in WORKERS}
    for auth in of_kind(docs, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["name"] in EXTERNAL_SECRETS


def test_the_servicemonitor_finds_every_metrics_service(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["prod-with-operators"]
    (monitor,) = of_kind(docs, "ServiceMonitor")
    sel = monitor["spec"]["selector"]["matchLabels"]
    ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    picked = [s for s in of_kind(docs, "Service") if selects(sel, s["metadata"]["labels"])]
    names = {s["metadata"]["name"] for s in picked}
    assert names == {"gateway-metrics", "web-metrics", "triton"} | {f"{n}-metrics" for n in WORKERS}
    for s in picked:
        assert ports <= {p["name"] for p in s["spec"]["ports"]}, s["metadata"]["name"]


# --- the image --------------------------------------------------------------------------------


def test_dockerfile_matches_the_manifests(rendered: dict[str, list[Doc]]) -> None:
    text = (ROOT / "Dockerfile").read_text()
    instructions = [
        line.split(None, 1) for line in text.splitlines() if line and not line.startswith("#")
    ]
    user = [rest for op, *rest in instructions if op == "USER"]
    assert user and user[-1][0].strip() == f"{APP_UID}:{APP_UID}", "numeric non-root user"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert "make proto models" in text or "make models" in text
    assert "COPY --from=build /src/models/ /app/models/" in text
    assert "/app/deploy/triton/model_repository/" in text
    # The manifests set `args`, so the ENTRYPOINT (tini) must stay PID 1.
    entry = [rest[0] for op, *rest in instructions if op == "ENTRYPOINT"]
    assert entry and "tini" in entry[-1]
    for docs in rendered.values():
        for name, c in containers(docs):
            if c["image"].split("/")[-1].startswith("tryon:") and name.endswith(
                tuple(f"/{x}" for x in ("gateway", "web", "recon", "render", "recsys", "beat"))
            ):
                assert "command" not in c, f"{name}: `command` would bypass tini"
                assert shlex.join(c["args"])


def test_the_image_carries_the_web_studio_files() -> None:
    """services/web serves its page, scripts and styles from the installed package
    (pages.STATIC_DIR): the Dockerfile installs the wheel, so pyproject.toml's package data
    must name every file under services/web/static/ (a file it misses is a 404 in production
    only, since a source checkout has them all)."""
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY services/ services/" in text
    assert re.search(r"pip wheel .*--wheel-dir /wheels \.", text)
    assert re.search(r"pip install /tmp/wheels/tryon-\*\.whl", text)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not [p for p in ignored if fnmatch.fnmatch("services/web/static/studio.js", p)]
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    patterns = package_data["services.web"]
    web = ROOT / "services" / "web"
    files = {p for p in (web / "static").rglob("*") if p.is_file()}
    assert files, "no studio files"
    # setuptools expands the patterns like glob, relative to the package: `*` is not recursive.
    packaged = {p for pattern in patterns for p in web.glob(pattern) if p.is_file()}
    missing = sorted(p.relative_to(web).as_posix() for p in files - packaged)
    assert not missing, f"not in the wheel: {missing}"
    assert web / "API.md" in packaged


def test_each_disruption_budget_guards_its_own_deployment(overlay: tuple[str, list[Doc]]) -> None:
    """A budget whose selector matches another Deployment's pods protects the wrong service."""
    _, docs = overlay
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for pdb in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
        name = pdb["metadata"]["name"]
        selector = pdb["spec"]["selector"]["matchLabels"]
        matched = [
            n for n, d in deployments.items()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        assert matched == [name], f"PodDisruptionBudget {name} selects {matched}"
