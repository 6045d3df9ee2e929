"""The house rules of deploy/validate_manifests.py refuse what they should.

`make deploy-check` renders the overlays and runs these rules on them (it passing shows the
manifests follow them). Here each rule meets the committed manifests, and a copy with the
one thing it guards removed, so a rule that silently stopped checking would show.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = ROOT / "deploy" / "kustomize"
SERVICES = (
    "visitor-gateway",
    "queue-manager",
    "session-service",
    "offline-messages",
    "summary-projector",
)

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "validate_manifests", ROOT / "deploy" / "validate_manifests.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _docs(*paths: Path) -> list[Doc]:
    return [d for p in paths for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d]


def _spread() -> list[Doc]:
    patch = _docs(KUSTOMIZE / "base" / "spread.yaml")[0]
    constraints: list[Doc] = patch["spec"]["template"]["spec"]["topologySpreadConstraints"]
    return constraints


def _workloads() -> list[Doc]:
    """The base's Deployments and StatefulSets as the base renders them (its common label, its
    spread patch)."""
    docs = _docs(*(KUSTOMIZE / "base" / f"{s}.yaml" for s in SERVICES))
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    for w in workloads:
        w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/part-of"] = "livechat"
        w["spec"]["template"]["spec"]["topologySpreadConstraints"] = _spread()
    return workloads


def _kind(service: str) -> str:
    """The gateway is a Deployment; the stateful services are StatefulSets (partition owners)."""
    return "Deployment" if service == "visitor-gateway" else "StatefulSet"


def _services() -> list[Doc]:
    return [
        d
        for d in _docs(*(KUSTOMIZE / "base" / f"{s}.yaml" for s in SERVICES))
        if d["kind"] == "Service"
    ]


def _policies() -> list[Doc]:
    found = _docs(*sorted((KUSTOMIZE / "components" / "network-policies").glob("*.yaml")))
    return [d for d in found if d["kind"] == "NetworkPolicy"]


def _pod(w: Doc) -> Doc:
    pod: Doc = w["spec"]["template"]["spec"]
    return pod


def test_every_container_pauses_before_stopping_within_its_grace_period(rules: ModuleType) -> None:
    for w in _workloads():
        pod = _pod(w)
        container = pod["containers"][0]
        assert rules.shutdown_errors(pod, container) == [], w["metadata"]["name"]

        no_pause = copy.deepcopy(container)
        del no_pause["lifecycle"]
        assert rules.shutdown_errors(pod, no_pause) == ["no preStop sleep of at least 1 s"]

        short = {**pod, "terminationGracePeriodSeconds": 20}
        assert "less than the preStop sleep" in rules.shutdown_errors(short, container)[0]


def test_replicas_spread_over_zones_and_nodes(rules: ModuleType) -> None:
    for w in _workloads():
        assert rules.workload_errors(w) == []
        hosts_only = copy.deepcopy(w)
        _pod(hosts_only)["topologySpreadConstraints"] = [
            c for c in _spread() if c["topologyKey"] == "kubernetes.io/hostname"
        ]
        assert rules.workload_errors(hosts_only) == [
            "no topologySpreadConstraint over topology.kubernetes.io/zone"
        ]


def test_production_images_are_pinned_by_a_well_formed_digest(rules: ModuleType) -> None:
    w = _workloads()[0]
    pod, container = _pod(w), _pod(w)["containers"][0]
    good = "registry.example.com/livechat/livechat-routing@sha256:" + "ab" * 32

    def image_errors(image: str, production: bool) -> list[str]:
        errors = rules.container_errors(pod, {}, {**container, "image": image}, production)
        return [e for e in errors if "image" in e]

    assert image_errors(good, production=True) == []
    assert image_errors("livechat-routing:0.1.0", production=False) == []
    assert image_errors("livechat-routing:0.1.0", production=True)
    assert image_errors(good[:-1], production=False), "a digest one digit short"
    assert image_errors(good.upper(), production=False), "upper-case hex"


def test_the_production_overlay_names_its_digest_in_the_accepted_form(rules: ModuleType) -> None:
    overlay = _docs(KUSTOMIZE / "overlays" / "production" / "kustomization.yaml")[0]
    (image,) = overlay["images"]
    assert rules.DIGEST.search(f"{image['newName']}@{image['digest']}")


def test_the_gateway_autoscaler_owns_the_replica_count(rules: ModuleType) -> None:
    hpa = _docs(KUSTOMIZE / "overlays" / "production" / "autoscaling.yaml")[0]
    workloads = _workloads()
    gateway = next(w for w in workloads if w["metadata"]["name"] == "visitor-gateway")
    assert "replicas" in gateway["spec"]
    errors = rules.autoscaler_errors([hpa], workloads)
    assert errors == [
        "Deployment/visitor-gateway sets spec.replicas although"
        " HorizontalPodAutoscaler/visitor-gateway scales it (every kubectl apply would reset"
        " the count)"
    ]
    del gateway["spec"]["replicas"]  # what the production overlay's patch does
    assert rules.autoscaler_errors([hpa], workloads) == []
    for c in _pod(gateway)["containers"]:
        del c["resources"]["requests"]["cpu"]
    assert rules.autoscaler_errors([hpa], workloads) == [
        "HorizontalPodAutoscaler/visitor-gateway: container server requests no cpu"
    ]


def test_the_ingress_keeps_websockets_open_uses_tls_and_hides_metrics(rules: ModuleType) -> None:
    ingress = _docs(KUSTOMIZE / "components" / "ingress" / "ingress.yaml")[0]
    services = _services()
    assert rules.ingress_errors([ingress], services) == []

    default_timeouts = copy.deepcopy(ingress)
    for key in rules.NGINX_TIMEOUTS:
        del default_timeouts["metadata"]["annotations"][key]
    assert len(rules.ingress_errors([default_timeouts], services)) == 2

    everything = copy.deepcopy(ingress)
    everything["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/"
    assert rules.ingress_errors([everything], services) == [
        "Ingress/visitor-gateway path / makes /metrics public"
    ]

    no_such_port = copy.deepcopy(ingress)
    no_such_port["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {
        "number": 80
    }
    assert rules.ingress_errors([no_such_port], services) == [
        "Ingress/visitor-gateway path /v1: Service/visitor-gateway has no port {'number': 80}"
    ]

    no_tls = copy.deepcopy(ingress)
    del no_tls["spec"]["tls"]
    assert rules.ingress_errors([no_tls], services) == [
        "Ingress/visitor-gateway: host chat.example.com has no TLS secret"
    ]


def test_network_policies_deny_by_default_and_leave_each_pod_what_it_needs(
    rules: ModuleType,
) -> None:
    workloads, policies = _workloads(), _policies()
    assert rules.network_policy_errors(policies, workloads) == []

    without_default = [p for p in policies if p["metadata"]["name"] != "default-deny"]
    assert rules.network_policy_errors(without_default, workloads) == [
        "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)"
    ]

    without_dns = [p for p in policies if p["metadata"]["name"] != "backing-services"]
    assert rules.network_policy_errors(without_dns, workloads) == [
        f"{_kind(s)}/{s}: no NetworkPolicy lets its pods reach DNS (port 53)" for s in SERVICES
    ]

    without_metrics = [p for p in policies if p["metadata"]["name"] != "metrics"]
    assert rules.network_policy_errors(without_metrics, workloads) == [
        "StatefulSet/queue-manager: no NetworkPolicy admits anything to its pods"
    ]

    renamed = copy.deepcopy(policies)
    gateway = next(p for p in renamed if p["metadata"]["name"] == "visitor-gateway")
    gateway["spec"]["egress"][0]["ports"][0]["port"] = "api"
    assert rules.network_policy_errors(renamed, workloads) == [
        f"NetworkPolicy/visitor-gateway: StatefulSet/{s} has no port named api"
        for s in ("session-service", "offline-messages", "summary-projector")
    ]


def test_internal_read_apis_admit_only_the_gateway_besides_prometheus(rules: ModuleType) -> None:
    """Who may open a connection to each service's http port, by the policies."""
    policies = _policies()

    def admitted(service: str) -> set[str]:
        labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "livechat"}
        sources = set()
        for p in policies:
            if not rules.selects(p["spec"]["podSelector"], labels):
                continue
            for rule in p["spec"].get("ingress") or []:
                for peer in rule["from"]:
                    if "namespaceSelector" in peer:
                        sources.add(
                            "namespace "
                            + peer["namespaceSelector"]["matchLabels"][
                                "kubernetes.io/metadata.name"
                            ]
                        )
                    else:
                        sources.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
        return sources

    assert admitted("visitor-gateway") == {"namespace ingress-nginx", "namespace monitoring"}
    for service in ("session-service", "offline-messages", "summary-projector"):
        assert admitted(service) == {"visitor-gateway", "namespace monitoring"}, service
    assert admitted("queue-manager") == {"namespace monitoring"}


def test_a_service_reads_the_broker_address_shared_or_its_own_and_no_other(
    rules: ModuleType,
) -> None:
    w = next(w for w in _workloads() if w["metadata"]["name"] == "queue-manager")
    pod = _pod(w)

    def amqp_errors(key: str) -> list[str]:
        container = copy.deepcopy(pod["containers"][0])
        (amqp,) = [e for e in container["env"] if e["name"] == "AMQP_URL"]
        amqp["valueFrom"]["secretKeyRef"]["key"] = key
        return [e for e in rules.container_errors(pod, {}, container) if "AMQP_URL" in e]

    assert amqp_errors("amqp-url") == []
    assert amqp_errors("amqp-url-queue-manager") == []  # components/broker-user-per-service
    assert amqp_errors("amqp-url-session-service"), "another service's user"


def test_each_partition_owner_knows_its_index_and_how_many_share_the_partitions(
    rules: ModuleType,
) -> None:
    owners = [w for w in _workloads() if w["kind"] == "StatefulSet"]
    assert {w["metadata"]["name"] for w in owners} == set(SERVICES) - {"visitor-gateway"}
    config = {
        "kind": "ConfigMap",
        "metadata": {"name": "livechat-config"},
        "data": {
            f"{w['metadata']['name'].upper().replace('-', '_')}_REPLICAS": "2" for w in owners
        },
    }
    assert rules.partition_owner_errors([config, *owners]) == []

    more = copy.deepcopy(owners[0])
    more["spec"]["replicas"] = 3
    sequential = copy.deepcopy(owners[1])
    del sequential["spec"]["podManagementPolicy"]
    assert rules.partition_owner_errors([config, more, sequential]) == [
        f"StatefulSet/{more['metadata']['name']}: 3 replicas but "
        f"{more['metadata']['name'].upper().replace('-', '_')}_REPLICAS=2 in the ConfigMap",
        f"StatefulSet/{sequential['metadata']['name']}: podManagementPolicy is not Parallel",
    ]
