#!/usr/bin/python3
"""Offline check of deploy/kubernetes/ (docs/kubernetes.md): the objects are
well formed and agree with each other and with the node configuration they
mount. With --probes it prints, as JSON, what the StatefulSet expects a node
to serve (ports and probe paths), for the multi-host test to check against a
running node. Exit 0 when every check passes; each failure is printed."""
import argparse
import json
import os
import sys
import tomllib

import yaml

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def load(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    objects = []
    for name in kustomization["resources"]:
        with open(os.path.join(directory, name)) as f:
            objects += [o for o in yaml.safe_load_all(f) if o]
    configs = {}
    for generator in kustomization.get("configMapGenerator", []):
        files = {}
        for path in generator["files"]:
            with open(os.path.join(directory, path), "rb") as f:
                files[os.path.basename(path)] = f.read()
        configs[generator["name"]] = files
    return kustomization, objects, configs


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def named_port(container, name_or_number):
    if isinstance(name_or_number, int):
        return name_or_number
    for p in container.get("ports", []):
        if p.get("name") == name_or_number:
            return p["containerPort"]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("directory")
    ap.add_argument("--probes", action="store_true")
    args = ap.parse_args()
    kustomization, objects, configs = load(args.directory)

    for o in objects:
        check(o.get("apiVersion") and o.get("kind") and o.get("metadata", {}).get("name"),
              f"object without apiVersion, kind or name: {o}")
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    for kind in ["StatefulSet", "Service", "PodDisruptionBudget", "NetworkPolicy"]:
        check(kind in by_kind, f"no {kind}")
    if failures:
        return report(args)
    sts = by_kind["StatefulSet"][0]
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(spec["selector"]["matchLabels"].items() <= labels.items(),
          "the StatefulSet's selector does not match its pods")
    replicas = spec["replicas"]

    services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
    peer = services.get(spec["serviceName"])
    check(peer is not None, f"serviceName {spec['serviceName']} is not a Service here")
    if peer:
        check(peer["spec"].get("clusterIP") == "None", "the peer Service is not headless")
        check(peer["spec"].get("publishNotReadyAddresses") is True,
              "the peer Service hides pods that are not ready: nodes could never find each other")
    for s in services.values():
        check(s["spec"]["selector"].items() <= labels.items(),
              f"Service {s['metadata']['name']} selects no pod of the StatefulSet")

    # The node configuration the pods mount.
    config_volume = next((v for v in pod["volumes"] if "configMap" in v), None)
    check(config_volume is not None, "no configMap volume")
    files = configs.get(config_volume["configMap"]["name"], {}) if config_volume else {}
    check("node.toml" in files and "cluster.toml" in files,
          "the ConfigMap lacks node.toml or cluster.toml")
    node = tomllib.loads(files["node.toml"].decode())
    cluster = tomllib.loads(files["cluster.toml"].decode())
    container = pod["containers"][0]
    mounts = {m["name"]: m for m in container["volumeMounts"]}

    check(os.path.dirname(node["cluster"]) == mounts[config_volume["name"]]["mountPath"],
          "node.toml's cluster file is not in the mounted ConfigMap")
    check(container["args"][:2] == ["--config", mounts[config_volume["name"]]["mountPath"] +
                                    "/node.toml"], "the container does not start with node.toml")
    claim = spec["volumeClaimTemplates"][0]["metadata"]["name"]
    check(mounts.get(claim, {}).get("mountPath") == node["data"],
          "the data volume is not mounted at node.toml's data directory")
    secret_mount = next((m for m in container["volumeMounts"] if m["name"] == "secret"), None)
    check(secret_mount is not None and secret_mount["mountPath"] == node["cluster-secret-file"]
          and secret_mount.get("subPath"),
          "the cluster secret is not mounted as a plain file at node.toml's cluster-secret-file")

    # Members: one per pod, named as the pod, reached through the headless Service.
    members = cluster["member"]
    check(len(members) == replicas, f"{len(members)} members for {replicas} replicas")
    listen_port = port_of(node["listen"])
    http_port = port_of(node["http"])
    for i, m in enumerate(members):
        pod_name = f"{sts['metadata']['name']}-{i}"
        check(m["id"] == pod_name, f"member {i} is {m['id']}, the pod is {pod_name}")
        check(m["address"] == f"{pod_name}.{spec['serviceName']}:{listen_port}",
              f"member {m['id']} has address {m['address']}")
    check(cluster["n"] <= replicas, "n is larger than the replicas")

    # Ports and probes against what the node serves.
    check(named_port(container, "ringkv") == listen_port, "port ringkv is not node.toml's listen")
    check(named_port(container, "http") == http_port, "port http is not node.toml's http")
    probes = {}
    for kind, path in [("readinessProbe", "/readyz"), ("livenessProbe", "/livez")]:
        probe = container.get(kind, {}).get("httpGet", {})
        check(probe.get("path") == path, f"{kind} is not GET {path}")
        check(named_port(container, probe.get("port")) == http_port, f"{kind} is not on http")
        probes[kind] = {"path": probe.get("path"), "port": named_port(container, probe.get("port"))}
    for s in services.values():
        for p in s["spec"]["ports"]:
            check(named_port(container, p["targetPort"]) in (listen_port, http_port),
                  f"Service {s['metadata']['name']} targets port {p['targetPort']}")

    # Shutdown: the node's drain ends before the kubelet's SIGKILL.
    check(pod["terminationGracePeriodSeconds"] * 1000 > node.get("shutdown-grace-ms", 5000),
          "terminationGracePeriodSeconds is not longer than shutdown-grace-ms")
    # Security: the image's user, never root.
    check(pod["securityContext"].get("runAsNonRoot") is True, "pods may run as root")

    # A voluntary disruption keeps a quorum of the default bucket.
    pdb = by_kind["PodDisruptionBudget"][0]["spec"]
    quorum = cluster["n"] // 2 + 1
    check(pdb["selector"]["matchLabels"].items() <= labels.items(), "the PDB selects no pod")
    check(pdb.get("minAvailable", 0) >= quorum,
          f"the PDB lets the cluster fall under a quorum of {quorum}")

    if args.probes:
        print(json.dumps({"listen_port": listen_port, "http_port": http_port,
                          "readiness": probes["readinessProbe"]["path"],
                          "liveness": probes["livenessProbe"]["path"],
                          "replicas": replicas}))
    return report(args)


def report(args):
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not args.probes:
        print(f"{'ok' if not failures else str(len(failures)) + ' failures'}: {args.directory}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
