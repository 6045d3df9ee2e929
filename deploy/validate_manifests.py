"""Validates rendered Kubernetes manifests and the compose file; run by deploy/check.sh.

Built-in kinds are checked with kubernetes-validate (strict) against each Kubernetes version
asked for; custom resources against the JSON schemas in the CRD schema directory
(`<group>/<kind>_<version>.json`), because kubernetes-validate has no option for extra
schemas. A document with no schema is an error, not a warning. On top of the schemas, the
house rules for every container (non-root, read-only root filesystem, probes, limits, the
settings read from the Secret, ...) and the references between documents are checked.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

SECRET_NAME = "livechat-secrets"
# Read by every container from the Secret: variable -> key.
SECRET_ENV = {
    "AMQP_URL": "amqp-url",
    "MONGO_URL": "mongo-url",
    "INTERNAL_API_TOKEN": "internal-api-token",
}
# Read from the Secret as well by the containers of one service, named by the package of the
# app its command runs (`uvicorn --factory <package>.main:create_app ...`).
SERVICE_SECRET_ENV = {
    "visitor_gateway": {"VISITOR_GATEWAY_TOKEN_SECRET": "token-secret"},
}
# Variables whose key may also be the service's own, `<key>-<service>` (components/
# broker-user-per-service: each service connects to RabbitMQ as its own user).
PER_SERVICE = {"AMQP_URL"}
# What a container without a command runs: the image's CMD (see the Dockerfile).
IMAGE_DEFAULT_APP = "queue_manager"
# The shortest value the services accept (their settings refuse to start with less).
SECRET_MIN_LENGTH = {"internal-api-token": 16, "token-secret": 32}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}
# What a container does after SIGTERM (uvicorn's --timeout-graceful-shutdown 10, then the
# broker client's drain of up to 10 s): the grace period must cover it after the preStop pause.
SHUTDOWN_SECONDS = 20
# Replicas spread over both, so that losing a node or a zone leaves one serving.
SPREAD_KEYS = ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# ingress-nginx closes a connection idle for proxy-read-timeout (60 s by default): too short
# for a WebSocket or an event stream that is quiet for a while.
WEBSOCKET_TIMEOUT_MIN = 300
NGINX_TIMEOUTS = (
    "nginx.ingress.kubernetes.io/proxy-read-timeout",
    "nginx.ingress.kubernetes.io/proxy-send-timeout",
)


def is_builtin_group(group: str) -> bool:
    return group == "" or "." not in group or group.endswith(".k8s.io")


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_errors(doc: Doc, crd_dir: Path, versions: list[str]) -> list[str]:
    # Imported here: the house rules below need neither (tests/unit/test_deploy_rules.py runs
    # them in the project's environment, which has no kubernetes-validate).
    import jsonschema
    from kubernetes_validate import utils as kv  # type: ignore[import-untyped]

    group, version = split_api_version(str(doc.get("apiVersion", "")))
    kind = str(doc.get("kind", ""))
    crd_schema = crd_dir / group / f"{kind.lower()}_{version}.json"
    if group and crd_schema.is_file():
        schema = json.loads(crd_schema.read_text())
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        return [
            f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            f" (schema {crd_schema.relative_to(crd_dir)})"
            for e in cls(schema).iter_errors(doc)
        ]
    if not is_builtin_group(group):
        return [f"no schema for {doc.get('apiVersion')} {kind} in {crd_dir}"]
    errors = []
    for k8s in versions:
        try:
            kv.validate(doc, k8s, strict=True)
        except kv.ValidationError as e:
            path = ".".join(map(str, e.path)) or "<root>"
            errors.append(f"Kubernetes {e.version}: {path}: {e.message}")
        except kv.SchemaNotFoundError as e:
            errors.append(e.message)
        except kv.VersionNotSupportedError as e:
            errors.append(e.message)
    return errors


def app_of(c: Doc) -> str:
    """The package whose app the container runs, e.g. `visitor_gateway`."""
    argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
    if not argv:
        return IMAGE_DEFAULT_APP
    apps = [a.split(".", 1)[0] for a in argv if a.endswith(".main:create_app")]
    return apps[0] if apps else ""


def containers_of(pod_spec: Doc) -> Iterator[Doc]:
    yield from pod_spec.get("initContainers", []) or []
    yield from pod_spec.get("containers", []) or []


def container_errors(
    pod: Doc, annotations: dict[str, str], c: Doc, production: bool = False
) -> list[str]:
    """The rules every container follows (see GoogleCloudPlatform/microservices-demo)."""
    pod_sc = pod.get("securityContext", {}) or {}
    sc = c.get("securityContext", {}) or {}
    errs = []
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
        errs.append("runAsNonRoot is not true")
    if sc.get("runAsUser", pod_sc.get("runAsUser")) in (None, 0):
        errs.append("runAsUser is unset or 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        errs.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        errs.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged") is True:
        errs.append("privileged")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        errs.append("capabilities do not drop ALL")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            errs.append(f"{probe} is not an HTTP GET of {path} (got {got!r})")
    resources = c.get("resources") or {}
    for part in ("requests", "limits"):
        missing = {"cpu", "memory"} - set(resources.get(part) or {})
        if missing:
            errs.append(f"resources.{part} lacks {', '.join(sorted(missing))}")
    ports = {p.get("name") for p in c.get("ports") or []}
    if not ports & {"http", "metrics"} and annotations.get("prometheus.io/scrape") != "true":
        errs.append("no port named http/metrics and no prometheus.io/scrape annotation")
    empty_dirs = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
    if not any(
        m.get("mountPath") == "/tmp" and m.get("name") in empty_dirs
        for m in c.get("volumeMounts") or []
    ):
        errs.append("no emptyDir mounted at /tmp")
    env = {e["name"]: e for e in c.get("env") or []}
    for var, key in (SECRET_ENV | SERVICE_SECRET_ENV.get(app_of(c), {})).items():
        ref = ((env.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        keys = {key} | ({f"{key}-{app_of(c).replace('_', '-')}"} if var in PER_SERVICE else set())
        if ref.get("name") != SECRET_NAME or ref.get("key") not in keys:
            errs.append(
                f"{var} is not read from secret {SECRET_NAME} key {' or '.join(sorted(keys))}"
            )
    errs += shutdown_errors(pod, c)
    image = str(c.get("image", ""))
    if "@" in image and not DIGEST.search(image):
        errs.append(f"image {image}: a digest reads @sha256:<64 lowercase hex digits>")
    elif production and "@" not in image:
        errs.append(f"image {image} is not pinned by digest")
    return [f"container {c.get('name')}: {e}" for e in errs]


def shutdown_errors(pod: Doc, c: Doc) -> list[str]:
    """A preStop pause, so load balancers stop sending before the server stops listening."""
    sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
    if not isinstance(sleep, int) or sleep < 1:
        return ["no preStop sleep of at least 1 s"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace < sleep + SHUTDOWN_SECONDS:
        return [
            f"terminationGracePeriodSeconds {grace} is less than the preStop sleep ({sleep} s)"
            f" and the shutdown ({SHUTDOWN_SECONDS} s)"
        ]
    return []


def workload_errors(w: Doc) -> list[str]:
    """Rules for the pod template as a whole."""
    spread = {
        c.get("topologyKey")
        for c in w["spec"]["template"]["spec"].get("topologySpreadConstraints") or []
    }
    return [f"no topologySpreadConstraint over {key}" for key in SPREAD_KEYS if key not in spread]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions); the empty one selects everything."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def pod_labels(w: Doc) -> dict[str, str]:
    return dict(w["spec"]["template"]["metadata"].get("labels") or {})


def port_names(w: Doc) -> set[str]:
    pod = w["spec"]["template"]["spec"]
    return {p["name"] for c in containers_of(pod) for p in c.get("ports") or [] if "name" in p}


def labels_match(selector: Doc, labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def document_set_errors(docs: list[Doc]) -> list[str]:
    """References between the documents of one rendered overlay.

    The Secret with the broker and store addresses and the tokens may be missing:
    environments other than dev provide it out of band. Where it is rendered, it must hold
    every key the containers read from it.
    """
    names = {(d.get("kind"), d["metadata"].get("name")) for d in docs}
    services = [d for d in docs if d.get("kind") == "Service"]
    workloads = [d for d in docs if d.get("kind") in WORKLOAD_KINDS]
    errs = []
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        for c in containers_of(pod):
            refs = [
                ("ConfigMap", e["configMapRef"]["name"])
                for e in c.get("envFrom") or []
                if "configMapRef" in e
            ]
            refs += [
                ("Secret", (e.get("valueFrom") or {})["secretKeyRef"]["name"])
                for e in c.get("env") or []
                if "secretKeyRef" in (e.get("valueFrom") or {})
            ]
            for kind, ref in refs:
                if (kind, ref) not in names and (kind, ref) != ("Secret", SECRET_NAME):
                    errs.append(f"{name_of(w)}: {kind} {ref} is not in the rendered output")
        sa = pod.get("serviceAccountName")
        if sa and ("ServiceAccount", sa) not in names:
            errs.append(f"{name_of(w)}: ServiceAccount {sa} is not in the rendered output")
        pod_labels = w["spec"]["template"]["metadata"].get("labels") or {}
        if not any(
            labels_match({"matchLabels": s["spec"].get("selector")}, pod_labels) for s in services
        ):
            errs.append(f"{name_of(w)}: no Service selects its pods")
    errs += autoscaler_errors(docs, workloads)
    errs += ingress_errors(docs, services)
    errs += network_policy_errors(docs, workloads)
    secrets = {d["metadata"].get("name"): d for d in docs if d.get("kind") == "Secret"}
    if SECRET_NAME in secrets:
        errs += secret_errors(secrets[SECRET_NAME], workloads)
    for d in docs:
        if d.get("kind") == "ServiceMonitor":
            ports = {e.get("port") for e in d["spec"].get("endpoints") or []}
            for s in services:
                if not labels_match(d["spec"]["selector"], s["metadata"].get("labels") or {}):
                    errs.append(f"{name_of(d)} does not select {name_of(s)}")
                elif not ports & {p.get("name") for p in s["spec"].get("ports") or []}:
                    errs.append(f"{name_of(s)} has none of the ports {sorted(ports)} scraped")
        if d.get("kind") == "PodDisruptionBudget" and not any(
            labels_match(d["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])
            for w in workloads
        ):
            errs.append(f"{name_of(d)} selects no workload")
    return errs


def autoscaler_errors(docs: list[Doc], workloads: list[Doc]) -> list[str]:
    """An HPA scales a workload of the output, which leaves it spec.replicas, with requests."""
    errs = []
    by_name = {(w["kind"], w["metadata"]["name"]): w for w in workloads}
    for hpa in (d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = by_name.get((ref.get("kind"), ref.get("name")))
        if target is None:
            errs.append(f"{name_of(hpa)} scales {ref.get('kind')}/{ref.get('name')}, not rendered")
            continue
        if "replicas" in target["spec"]:
            errs.append(
                f"{name_of(target)} sets spec.replicas although {name_of(hpa)} scales it"
                " (every kubectl apply would reset the count)"
            )
        if hpa["spec"].get("minReplicas", 1) < 2:
            errs.append(f"{name_of(hpa)}: minReplicas below 2 leaves one replica to lose")
        resources = {
            m["resource"]["name"]
            for m in hpa["spec"].get("metrics") or []
            if m["type"] == "Resource"
        }
        for c in containers_of(target["spec"]["template"]["spec"]):
            for resource in resources - set((c.get("resources") or {}).get("requests") or {}):
                errs.append(f"{name_of(hpa)}: container {c.get('name')} requests no {resource}")
    return errs


def ingress_errors(docs: list[Doc], services: list[Doc]) -> list[str]:
    """Each Ingress: TLS for its hosts, a backend that exists, long timeouts, no /metrics."""
    errs = []
    by_name = {s["metadata"]["name"]: s for s in services}
    for ing in (d for d in docs if d.get("kind") == "Ingress"):
        spec, annotations = ing["spec"], ing["metadata"].get("annotations") or {}
        tls_hosts = {
            h for t in spec.get("tls") or [] if t.get("secretName") for h in t.get("hosts") or []
        }
        for rule in spec.get("rules") or []:
            if rule.get("host") not in tls_hosts:
                errs.append(f"{name_of(ing)}: host {rule.get('host')} has no TLS secret")
            for path in (rule.get("http") or {}).get("paths") or []:
                where = f"{name_of(ing)} path {path.get('path')}"
                prefix = path.get("pathType") == "Prefix"
                route = path.get("path", "/").rstrip("/") or "/"
                if route == "/metrics" or (prefix and "/metrics".startswith(route)):
                    errs.append(f"{where} makes /metrics public")
                backend = (path.get("backend") or {}).get("service") or {}
                service = by_name.get(backend.get("name"))
                if service is None:
                    errs.append(f"{where}: Service {backend.get('name')} is not rendered")
                    continue
                port = backend.get("port") or {}
                ports = service["spec"].get("ports") or []
                if not any(
                    ("name" in port and port["name"] == p.get("name"))
                    or ("number" in port and port["number"] == p.get("port"))
                    for p in ports
                ):
                    errs.append(f"{where}: {name_of(service)} has no port {port}")
        if spec.get("ingressClassName") == "nginx":
            for key in NGINX_TIMEOUTS:
                value = annotations.get(key, "60")
                if not value.isdigit() or int(value) < WEBSOCKET_TIMEOUT_MIN:
                    errs.append(
                        f"{name_of(ing)}: {key} is {value} s; WebSockets need {WEBSOCKET_TIMEOUT_MIN} or more"
                    )
    return errs


def _policy_peers_select(peers: list[Doc], labels: dict[str, str]) -> bool:
    """Peers without a namespaceSelector are pods of the policy's own namespace."""
    return any(
        "podSelector" in p and "namespaceSelector" not in p and selects(p["podSelector"], labels)
        for p in peers
    )


def network_policy_errors(docs: list[Doc], workloads: list[Doc]) -> list[str]:
    """With NetworkPolicies: deny by default, then every pod has what it needs and no more.

    Each workload is selected by a policy admitting something and by one letting it reach
    DNS; a policy with a pod selector selects some workload; a named port in a rule is a port
    of the pods it applies to (ingress: the selected pods; egress: the peers).
    """
    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    if not policies:
        return []
    errs = []
    if not any(
        p["spec"].get("podSelector") == {}
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes") or [])
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies
    ):
        errs.append(
            "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)"
        )
    for w in workloads:
        labels = pod_labels(w)
        mine = [p for p in policies if selects(p["spec"].get("podSelector") or {}, labels)]
        if not any(p["spec"].get("ingress") for p in mine):
            errs.append(f"{name_of(w)}: no NetworkPolicy admits anything to its pods")
        if not any(
            port.get("port") == 53
            for p in mine
            for rule in p["spec"].get("egress") or []
            for port in rule.get("ports") or []
        ):
            errs.append(f"{name_of(w)}: no NetworkPolicy lets its pods reach DNS (port 53)")
    for p in policies:
        selector = p["spec"].get("podSelector") or {}
        selected = [w for w in workloads if selects(selector, pod_labels(w))]
        if selector and not selected:
            errs.append(f"{name_of(p)} selects no workload")
        for rule in p["spec"].get("ingress") or []:
            for port in rule.get("ports") or []:
                for w in selected:
                    if isinstance(port.get("port"), str) and port["port"] not in port_names(w):
                        errs.append(f"{name_of(p)}: {name_of(w)} has no port named {port['port']}")
        for rule in p["spec"].get("egress") or []:
            peers = [
                w for w in workloads if _policy_peers_select(rule.get("to") or [], pod_labels(w))
            ]
            if (
                rule.get("to")
                and not peers
                and all("namespaceSelector" not in t and "ipBlock" not in t for t in rule["to"])
            ):
                errs.append(f"{name_of(p)}: an egress rule's pods are not rendered")
            for port in rule.get("ports") or []:
                for w in peers:
                    if isinstance(port.get("port"), str) and port["port"] not in port_names(w):
                        errs.append(f"{name_of(p)}: {name_of(w)} has no port named {port['port']}")
    return errs


def partition_owner_errors(docs: list[Doc]) -> list[str]:
    """A StatefulSet (a stateful service sharing the partitions of the sites) has the pod index
    as its replica ordinal, starts its pods together, and its spec.replicas equals the
    <PREFIX>_REPLICAS its pods read from a ConfigMap: with fewer, some partitions would have no
    first owner; with more, two replicas would claim the same ones."""
    config: dict[str, str] = {}
    for d in docs:
        if d.get("kind") == "ConfigMap":
            config.update({k: str(v) for k, v in (d.get("data") or {}).items()})
    errs = []
    for w in (d for d in docs if d.get("kind") == "StatefulSet"):
        prefix = w["metadata"]["name"].upper().replace("-", "_")
        if w["spec"].get("podManagementPolicy") != "Parallel":
            errs.append(f"{name_of(w)}: podManagementPolicy is not Parallel")
        wanted = str(w["spec"].get("replicas", 1))
        if config.get(f"{prefix}_REPLICAS", "1") != wanted:
            errs.append(
                f"{name_of(w)}: {wanted} replicas but {prefix}_REPLICAS="
                f"{config.get(f'{prefix}_REPLICAS', '1 (unset)')} in the ConfigMap"
            )
        ordinal = [
            e
            for c in containers_of(w["spec"]["template"]["spec"])
            for e in c.get("env") or []
            if e.get("name") == f"{prefix}_REPLICA_ORDINAL"
        ]
        path = (
            (ordinal[0].get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
            if ordinal
            else None
        )
        if path != "metadata.labels['apps.kubernetes.io/pod-index']":
            errs.append(f"{name_of(w)}: {prefix}_REPLICA_ORDINAL is not the pod index")
    return errs


def production_errors(docs: list[Doc]) -> list[str]:
    """What production has on top: NetworkPolicies and a PodDisruptionBudget per workload."""
    workloads = [d for d in docs if d.get("kind") in WORKLOAD_KINDS]
    errs = []
    if not any(d.get("kind") == "NetworkPolicy" for d in docs):
        errs.append("production renders no NetworkPolicy")
    budgets = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
    for w in workloads:
        if not any(selects(b["spec"]["selector"], pod_labels(w)) for b in budgets):
            errs.append(f"{name_of(w)}: no PodDisruptionBudget")
    return errs


def secret_errors(secret: Doc, workloads: list[Doc]) -> list[str]:
    """A rendered Secret (dev's example) has every key read from it, long enough."""
    values = {k: str(v) for k, v in (secret.get("stringData") or {}).items()}
    for k, v in (secret.get("data") or {}).items():
        values.setdefault(k, base64.b64decode(str(v)).decode(errors="replace"))
    errs = []
    for w in workloads:
        for c in containers_of(w["spec"]["template"]["spec"]):
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
                if (
                    ref.get("name") == secret["metadata"].get("name")
                    and ref.get("key") not in values
                ):
                    errs.append(
                        f"{name_of(w)}: {e['name']} reads key {ref.get('key')},"
                        f" which {name_of(secret)} lacks"
                    )
    for key, minimum in SECRET_MIN_LENGTH.items():
        if key in values and len(values[key]) < minimum:
            errs.append(f"{name_of(secret)}: key {key} is shorter than {minimum} characters")
    return sorted(set(errs))


def check_manifests(
    path: Path, crd_dir: Path, versions: list[str], production: bool = False
) -> int:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    failures = 0
    for doc in docs:
        errs = schema_errors(doc, crd_dir, versions)
        if doc.get("kind") in WORKLOAD_KINDS:
            template = doc["spec"]["template"]
            annotations = template.get("metadata", {}).get("annotations") or {}
            for c in containers_of(template["spec"]):
                errs += container_errors(template["spec"], annotations, c, production)
            errs += workload_errors(doc)
        status = "FAIL" if errs else "ok  "
        print(f"  {status} {name_of(doc)}")
        for e in errs:
            print(f"         - {e}")
        failures += bool(errs)
    set_errs = document_set_errors(docs) + partition_owner_errors(docs)
    set_errs += production_errors(docs) if production else []
    for e in set_errs:
        print(f"  FAIL {e}")
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(Counter(d["kind"] for d in docs).items()))
    print(f"  {len(docs)} documents ({kinds}); {failures + len(set_errs)} problems")
    return failures + len(set_errs)


def check_compose(path: Path) -> int:
    compose = yaml.safe_load(path.read_text())
    errs = []
    for name, svc in (compose.get("services") or {}).items():
        if "healthcheck" not in svc:
            errs.append(f"service {name} has no healthcheck")
        if "build" in svc and not (svc.get("read_only") and svc.get("user")):
            errs.append(f"service {name} (built here) is not read_only with a user set")
        if "build" in svc:
            errs += [f"service {name}: {e}" for e in compose_secret_errors(svc)]
    for e in errs:
        print(f"  FAIL {e}")
    print(f"  {len(compose.get('services') or {})} services; {len(errs)} problems")
    return len(errs)


def compose_secret_errors(svc: Doc) -> list[str]:
    """A service built here sets the variables the manifests read from the Secret."""
    env = svc.get("environment") or {}
    if isinstance(env, list):  # `VAR=value`, or `VAR` alone: passed on from the shell
        env = {k: v if sep else f"${{{k}}}" for k, sep, v in (str(e).partition("=") for e in env)}
    command = svc.get("command") or []
    if isinstance(command, str):
        command = command.split()
    wanted = SECRET_ENV | SERVICE_SECRET_ENV.get(app_of({"command": command}), {})
    errs = []
    for var, key in wanted.items():
        value = env.get(var)
        if value is None:
            errs.append(f"{var} is not set")
        elif "$" not in str(value) and len(str(value)) < SECRET_MIN_LENGTH.get(key, 0):
            errs.append(f"{var} is shorter than {SECRET_MIN_LENGTH[key]} characters")
    return errs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--crd-schemas", type=Path, required=True)
    parser.add_argument("--kubernetes-version", action="append", required=True)
    parser.add_argument("--compose", type=Path)
    parser.add_argument(
        "--production",
        type=Path,
        action="append",
        default=[],
        help="a rendered production overlay: images by digest, NetworkPolicies, PDBs",
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    args = parser.parse_intermixed_args()
    problems = 0
    for path in args.manifests + args.production:
        production = path in args.production
        print(
            f"{path.stem}: kubernetes {', '.join(args.kubernetes_version)}, strict"
            + (", production rules" if production else "")
        )
        problems += check_manifests(path, args.crd_schemas, args.kubernetes_version, production)
    if args.compose:
        print(f"{args.compose.name}: services")
        problems += check_compose(args.compose)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
