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
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv  # type: ignore[import-untyped]

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
# What a container without a command runs: the image's CMD (see the Dockerfile).
IMAGE_DEFAULT_APP = "queue_manager"
# The shortest value the services accept (their settings refuse to start with less).
SECRET_MIN_LENGTH = {"internal-api-token": 16, "token-secret": 32}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}


def is_builtin_group(group: str) -> bool:
    return group == "" or "." not in group or group.endswith(".k8s.io")


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_errors(doc: Doc, crd_dir: Path, versions: list[str]) -> list[str]:
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


def container_errors(pod: Doc, annotations: dict[str, str], c: Doc) -> list[str]:
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
        if (ref.get("name"), ref.get("key")) != (SECRET_NAME, key):
            errs.append(f"{var} is not read from secret {SECRET_NAME} key {key}")
    return [f"container {c.get('name')}: {e}" for e in errs]


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


def check_manifests(path: Path, crd_dir: Path, versions: list[str]) -> int:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    failures = 0
    for doc in docs:
        errs = schema_errors(doc, crd_dir, versions)
        if doc.get("kind") in WORKLOAD_KINDS:
            template = doc["spec"]["template"]
            annotations = template.get("metadata", {}).get("annotations") or {}
            for c in containers_of(template["spec"]):
                errs += container_errors(template["spec"], annotations, c)
        status = "FAIL" if errs else "ok  "
        print(f"  {status} {name_of(doc)}")
        for e in errs:
            print(f"         - {e}")
        failures += bool(errs)
    set_errs = document_set_errors(docs)
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
    parser.add_argument("manifests", nargs="*", type=Path)
    args = parser.parse_args()
    problems = 0
    for path in args.manifests:
        print(f"{path.stem}: kubernetes {', '.join(args.kubernetes_version)}, strict")
        problems += check_manifests(path, args.crd_schemas, args.kubernetes_version)
    if args.compose:
        print(f"{args.compose.name}: services")
        problems += check_compose(args.compose)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
