"""Every Kustomize overlay renders, and every resource is valid against the Kubernetes schemas.

Rendering uses `kubectl kustomize` (installed into .tools by `make tools`); the built-in kinds are
validated strictly (unknown fields are errors) with the schemas kubernetes-validate ships. The
operators' custom resources (Strimzi, MongoDB Community, KEDA) have no schema on PyPI or npm: their kinds
and API versions are checked against the operators' documented ones, and the fields the services
depend on are checked below. The NetworkPolicies and Kafka ACLs are checked by evaluating them: who
may reach whom, and who may do what.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.ops import ROOT
from treatywatch.common.asyncapi import DEAD_LETTER_TOPIC_CONFIG, EVENTS_TOPIC_CONFIG

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBECTL = ROOT / ".tools" / "bin" / "kubectl"
# The oldest Kubernetes Strimzi 0.48 supports is 1.27; validate against a current release.
KUBERNETES_VERSION = "1.33"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir())
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1beta2", "Kafka"),
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
    ("kafka.strimzi.io/v1beta2", "KafkaUser"),
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
}
CONSUMERS = ("registry", "notify")
SERVICES = ("ingest", *CONSUMERS)
REBUILD_JOB = KUBERNETES / "jobs" / "registry-rebuild.yaml"
# What the services use (their app.py): consumer groups and databases.
GROUPS = {"registry": "treatywatch-registry", "notify": "treatywatch-notify"}
DATABASES = {"registry": "treatywatch_registry", "notify": "treatywatch_notify"}

Resource = dict[str, Any]


def render(directory: Path) -> list[Resource]:
    if not KUBECTL.exists():
        pytest.fail(f"{KUBECTL} is missing: run `make tools`")
    out = subprocess.run([str(KUBECTL), "kustomize", str(directory)], check=True, capture_output=True, text=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> list[Resource]:
    resources: list[Resource] = render(KUBERNETES / "overlays" / request.param)
    return resources


def by_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def schema_errors(resource: Resource) -> list[str]:
    """Strict validation of a built-in kind; custom resources must be of a known operator kind."""
    if (resource["apiVersion"], resource["kind"]) in CUSTOM_KINDS:
        return [] if resource["metadata"].get("name") else ["a custom resource without a name"]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{resource['kind']}/{resource['metadata']['name']}: {'.'.join(map(str, exc.path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [exc.message]
    return []


def test_every_resource_is_valid(overlay: list[Resource]) -> None:
    assert [e for r in overlay for e in schema_errors(r)] == []


def rebuild_job(slot: str = "blue") -> Resource:
    """The rebuild Job as an operator creates it, into the `blue` slot as written or, through sed, `green`."""
    job: Resource = yaml.safe_load(REBUILD_JOB.read_text().replace("blue", slot))
    return job


def container_env(workload: Resource) -> dict[str, Resource]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container.get("env", [])}


def arg(workload: Resource, flag: str) -> str:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    args: list[str] = container["args"]
    return args[args.index(flag) + 1]


def test_the_rebuild_job_is_valid() -> None:
    assert schema_errors(rebuild_job()) == []


def test_the_schema_check_catches_a_broken_manifest(overlay: list[Resource]) -> None:
    deployment = by_kind(overlay, "Deployment")["ingest"]
    typo = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    assert schema_errors(typo) and schema_errors(wrong_type)
    assert schema_errors({**deployment, "apiVersion": "apps/v1beta9"})


def test_every_service_is_deployed_safely(overlay: list[Resource]) -> None:
    deployments = by_kind(overlay, "Deployment")
    assert set(deployments) == set(SERVICES)
    assert set(by_kind(overlay, "Service")) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
        assert set(spread) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name
        # One node short of the skew (a drained one, a small cluster) must not leave a replica unscheduled.
        assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "ScheduleAnyway", name
        assert container["image"].startswith(f"treatywatch/{name}:"), f"{name}: the overlay sets no tag"


def test_every_overlay_seeds_the_platform_once_from_the_cli_image(overlay: list[Resource]) -> None:
    seed = by_kind(overlay, "Job")["seed"]
    pod = seed["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    tags = {
        d["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[1]
        for d in by_kind(overlay, "Deployment").values()
    }
    assert container["image"] in {f"treatywatch/cli:{tag}" for tag in tags}, "the overlay sets no tag"
    assert container["args"][0] == "seed" and "--registry-url" in container["args"]
    services = by_kind(overlay, "Service")
    for flag, name in (("--ingest-url", "ingest"), ("--registry-url", "registry")):
        port = services[name]["spec"]["ports"][0]["port"]
        assert container["args"][container["args"].index(flag) + 1] == f"http://{name}:{port}"
    (key,) = container["env"]
    assert key["name"] == "TREATYWATCH_API_KEY" and "secretKeyRef" in key["valueFrom"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_production_refuses_a_development_key() -> None:
    config = by_kind(render(KUBERNETES / "overlays" / "prod"), "ConfigMap")["treatywatch-config"]["data"]
    assert config["TREATYWATCH_PROFILE"] == "production"


def test_no_secret_is_kept_in_the_manifests(overlay: list[Resource]) -> None:
    assert by_kind(overlay, "Secret") == {}


def autoscaling_bounds(overlay: list[Resource]) -> dict[str, tuple[int, int]]:
    """Each Deployment's (min, max) replicas, from its HorizontalPodAutoscaler or KEDA ScaledObject: one of them."""
    bounds: dict[str, tuple[int, int]] = {}
    for hpa in by_kind(overlay, "HorizontalPodAutoscaler").values():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] not in bounds, target
        bounds[target["name"]] = (hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"])
    for scaled in by_kind(overlay, "ScaledObject").values():
        target = scaled["spec"]["scaleTargetRef"]
        # Two autoscalers on one Deployment would fight: KEDA's own HPA and ours.
        assert target.get("kind", "Deployment") == "Deployment" and target["name"] not in bounds, target
        bounds[target["name"]] = (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"])
    return bounds


def test_every_service_scales_within_the_topic_partitions(overlay: list[Resource]) -> None:
    topics = by_kind(overlay, "KafkaTopic")
    config = by_kind(overlay, "ConfigMap")["treatywatch-config"]["data"]
    partitions = topics[config["TREATYWATCH_TOPIC"]]["spec"]["partitions"]
    assert int(config["TREATYWATCH_TOPIC_PARTITIONS"]) == partitions
    bounds = autoscaling_bounds(overlay)
    deployments = by_kind(overlay, "Deployment")
    assert set(bounds) == set(SERVICES)
    for name, (least, most) in bounds.items():
        assert 1 <= least <= deployments[name]["spec"]["replicas"] <= most <= partitions, name
    # What the services' start-up check compares with the topic's partitions: the largest maximum.
    assert int(config["TREATYWATCH_MAX_REPLICAS"]) == max(most for _, most in bounds.values())


def test_every_service_has_a_disruption_budget_that_lets_nodes_drain(overlay: list[Resource]) -> None:
    budgets = by_kind(overlay, "PodDisruptionBudget")
    bounds = autoscaling_bounds(overlay)
    assert set(budgets) == set(SERVICES)
    for name, budget in budgets.items():
        assert budget["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        least = min(bounds[name][0], by_kind(overlay, "Deployment")[name]["spec"]["replicas"])
        if "maxUnavailable" in budget["spec"]:
            assert budget["spec"]["maxUnavailable"] >= 1, name
        else:
            # minAvailable equal to the replicas would refuse every eviction, and a node drain would hang.
            assert budget["spec"]["minAvailable"] < least, name


def test_topics_are_configured_as_the_catalogue_documents(overlay: list[Resource]) -> None:
    topics = by_kind(overlay, "KafkaTopic")
    for name, documented in (
        ("treatywatch.events", EVENTS_TOPIC_CONFIG),
        ("treatywatch.events.dlq", DEAD_LETTER_TOPIC_CONFIG),
    ):
        config = topics[name]["spec"]["config"]
        assert {k: [v] if k == "cleanup.policy" else v for k, v in config.items() if k in documented} == documented
    kafka = next(iter(by_kind(overlay, "Kafka").values()))
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]
    bootstrap = by_kind(overlay, "ConfigMap")["treatywatch-config"]["data"]["TREATYWATCH_KAFKA_BOOTSTRAP"]
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"


def test_mongodb_writes_the_connection_string_the_services_read(overlay: list[Resource]) -> None:
    (mongodb,) = by_kind(overlay, "MongoDBCommunity").values()
    users = {user["connectionStringSecretName"]: user for user in mongodb["spec"]["users"]}
    deployments = by_kind(overlay, "Deployment")
    assert "TREATYWATCH_MONGO_URL" not in container_env(deployments["ingest"])
    secrets = {}
    for name in CONSUMERS:
        secrets[name] = container_env(deployments[name])["TREATYWATCH_MONGO_URL"]["valueFrom"]["secretKeyRef"]
        assert secrets[name]["name"] in users and secrets[name]["key"] == "connectionString.standard"
    assert secrets["registry"]["name"] != secrets["notify"]["name"], "one MongoDB user per service"
    assert container_env(rebuild_job())["TREATYWATCH_MONGO_URL"]["valueFrom"]["secretKeyRef"] == secrets["registry"]


def test_each_mongodb_user_may_use_only_its_services_databases(overlay: list[Resource]) -> None:
    (mongodb,) = by_kind(overlay, "MongoDBCommunity").values()
    users = {user["connectionStringSecretName"]: user for user in mongodb["spec"]["users"]}
    deployments = by_kind(overlay, "Deployment")
    # The registry's own database, and the fresh ones a rebuild writes and the registry then switches to.
    rebuilt = {arg(rebuild_job(slot), "--into") for slot in ("blue", "green")}
    for name, databases in (("registry", {DATABASES["registry"], *rebuilt}), ("notify", {DATABASES["notify"]})):
        secret = container_env(deployments[name])["TREATYWATCH_MONGO_URL"]["valueFrom"]["secretKeyRef"]["name"]
        roles = {(role["name"], role["db"]) for role in users[secret]["roles"]}
        assert roles == {("readWrite", db) for db in databases}, name
    assert len(rebuilt) == 2 and not rebuilt & set(DATABASES.values())


# NetworkPolicies, evaluated: a pod (or an address outside the cluster) and the policies that select it.


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels, namespace, named ports) or, without labels, an address outside the cluster."""

    ip: str
    labels: dict[str, str] | None = None
    namespace: str = ""
    ports: dict[str, int] = field(default_factory=dict)


def selects(selector: Resource, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) matches these labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        matched = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not matched:
            return False
    return True


def peer_matches(peer: Resource, endpoint: Endpoint, namespace: str) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(endpoint.ip)
        cidr, *excepted = (
            ipaddress.ip_network(c) for c in (peer["ipBlock"]["cidr"], *peer["ipBlock"].get("except", []))
        )
        return address in cidr and not any(address in c for c in excepted if c.version == address.version)
    if endpoint.labels is None:
        return False
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": endpoint.namespace})
    else:
        in_namespace = endpoint.namespace == namespace
    return in_namespace and selects(peer.get("podSelector", {}), endpoint.labels)


def port_matches(rule: Resource, port: int, protocol: str, destination: Endpoint) -> bool:
    if "ports" not in rule:
        return True
    return any(
        p.get("protocol", "TCP") == protocol and destination.ports.get(p["port"], p["port"]) == port
        for p in rule["ports"]
    )


def side_allows(
    policies: list[Resource],
    direction: str,
    pod: Endpoint,
    peer: Endpoint,
    port: int,
    protocol: str,
    destination: Endpoint,
) -> bool:
    """Whether the policies selecting `pod` let it open (Egress) or accept (Ingress) a connection with `peer`.

    `destination` is the accepting pod, whose named ports a rule may use.
    """
    if pod.labels is None:
        return True
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"], pod.labels)
    ]
    peers_key, rules_key = ("to", "egress") if direction == "Egress" else ("from", "ingress")
    # A rule without peers admits any peer; one without ports, any port.
    return not selecting or any(
        port_matches(rule, port, protocol, destination)
        and (peers_key not in rule or any(peer_matches(p, peer, pod.namespace) for p in rule[peers_key]))
        for policy in selecting
        for rule in policy["spec"].get(rules_key, [])
    )


def may_connect(policies: list[Resource], source: Endpoint, to: Endpoint, port: int, protocol: str = "TCP") -> bool:
    return side_allows(policies, "Egress", source, to, port, protocol, to) and side_allows(
        policies, "Ingress", to, source, port, protocol, to
    )


def kafka_pod_labels(kafka: Resource) -> dict[str, str]:
    """The labels Strimzi gives the broker pods of a cluster."""
    name = kafka["metadata"]["name"]
    return {
        "strimzi.io/cluster": name,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": f"{name}-kafka",
        "strimzi.io/broker-role": "true",
    }


def strimzi_policy(kafka: Resource, namespace: str) -> Resource:
    """The NetworkPolicy Strimzi generates for the brokers from the listeners' networkPolicyPeers."""
    return {
        "metadata": {"name": f"{kafka['metadata']['name']}-network-policy-kafka", "namespace": namespace},
        "spec": {
            "podSelector": {
                "matchLabels": {"strimzi.io/cluster": kafka["metadata"]["name"], "strimzi.io/kind": "Kafka"}
            },
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "ports": [{"port": listener["port"]}],
                    **({"from": listener["networkPolicyPeers"]} if "networkPolicyPeers" in listener else {}),
                }
                for listener in kafka["spec"]["kafka"]["listeners"]
            ],
        },
    }


PRIVATE_ADDRESSES = (
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "127.0.0.1",
    "fd00::1",
    "fe80::1",
    "::1",
    "64:ff9b::a9fe:a9fe",
)


def network(
    overlay: list[Resource],
) -> tuple[list[Resource], dict[str, Endpoint], dict[str, tuple[Endpoint, int, str]]]:
    """The policies, the pods and the destinations (with port and protocol) to evaluate for an overlay.

    The policies add the one Strimzi generates; the pods add the rebuild Job's, created in the overlay's namespace.
    """
    (kafka,) = by_kind(overlay, "Kafka").values()
    (mongodb,) = by_kind(overlay, "MongoDBCommunity").values()
    namespace = kafka["metadata"]["namespace"]
    policies = [*by_kind(overlay, "NetworkPolicy").values(), strimzi_policy(kafka, namespace)]
    workloads = [*by_kind(overlay, "Deployment").values(), by_kind(overlay, "Job")["seed"], rebuild_job()]
    pods = {}
    for n, workload in enumerate(workloads):
        template = workload["spec"]["template"]
        (container,) = template["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
        pods[workload["metadata"]["name"]] = Endpoint(
            f"10.0.1.{n + 1}", template["metadata"]["labels"], namespace, ports
        )
    pods["other"] = Endpoint("10.0.1.99", {"app": "other"}, namespace)
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    destinations = {
        "dns/udp": (Endpoint("10.0.0.10", {"k8s-app": "kube-dns"}, "kube-system"), 53, "UDP"),
        "dns/tcp": (Endpoint("10.0.0.10", {"k8s-app": "kube-dns"}, "kube-system"), 53, "TCP"),
        "kafka": (Endpoint("10.0.2.1", kafka_pod_labels(kafka), namespace), listener["port"], "TCP"),
        "mongodb": (Endpoint("10.0.3.1", {"app": f"{mongodb['metadata']['name']}-svc"}, namespace), 27017, "TCP"),
        "internet": (Endpoint("93.184.215.14"), 443, "TCP"),
        "internet6": (Endpoint("2606:2800:21f:cb07:6820:80da:af6b:8b2c"), 443, "TCP"),
        **{f"private {ip}": (Endpoint(ip), 443, "TCP") for ip in PRIVATE_ADDRESSES},
        **{name: (pods[name], pods[name].ports["http"], "TCP") for name in SERVICES},
        **{f"{name}:9999": (pods[name], 9999, "TCP") for name in SERVICES},
    }
    return policies, pods, destinations


# Where each Treaty Watch pod may open connections, and nothing else: not each other, not the cluster's
# other addresses, not the cloud's metadata service.
REACHES = {
    "ingest": {"dns/udp", "dns/tcp", "kafka"},
    "registry": {"dns/udp", "dns/tcp", "kafka", "mongodb"},
    "notify": {"dns/udp", "dns/tcp", "kafka", "mongodb", "internet", "internet6"},
    "seed": {"dns/udp", "dns/tcp", "ingest", "registry"},
    "registry-rebuild": {"dns/udp", "dns/tcp", "kafka", "mongodb"},
}


def test_each_pod_may_reach_only_what_it_needs(overlay: list[Resource]) -> None:
    policies, pods, destinations = network(overlay)
    reached = {
        name: {
            d
            for d, (to, port, protocol) in destinations.items()
            if may_connect(policies, pods[name], to, port, protocol)
        }
        for name in REACHES
    }
    assert reached == REACHES


def test_kafka_and_mongodb_accept_only_their_clients(overlay: list[Resource]) -> None:
    # On the brokers' and the members' side too: a pod no policy of ours restricts is stopped there.
    policies, pods, destinations = network(overlay)
    for name, clients in (
        ("kafka", {"ingest", "registry", "notify", "registry-rebuild"}),
        ("mongodb", {"registry", "notify", "registry-rebuild"}),
    ):
        to, port, protocol = destinations[name]
        accepted = {p for p, pod in pods.items() if side_allows(policies, "Ingress", to, pod, port, protocol, to)}
        assert accepted == clients, name
    members = destinations["mongodb"][0]
    assert side_allows(policies, "Ingress", members, members, 27017, "TCP", members), "replication between members"


def test_the_services_http_port_is_open_to_all_and_nothing_else_is(overlay: list[Resource]) -> None:
    policies, pods, destinations = network(overlay)
    outside = Endpoint("203.0.113.7")
    for name in SERVICES:
        to, port, _ = destinations[name]
        assert may_connect(policies, pods["other"], to, port) and may_connect(policies, outside, to, port), name
        assert not may_connect(policies, pods["other"], to, 9999), name


def test_every_treatywatch_pod_denies_by_default(overlay: list[Resource]) -> None:
    policies, pods, _ = network(overlay)
    for name in REACHES:
        types = {
            t
            for p in policies
            if selects(p["spec"]["podSelector"], pods[name].labels or {})
            for t in p["spec"]["policyTypes"]
        }
        assert types == {"Ingress", "Egress"}, name


def test_the_policy_check_catches_an_open_egress(overlay: list[Resource]) -> None:
    policies, pods, destinations = network(overlay)
    open_egress = {
        "metadata": {"namespace": pods["ingest"].namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
    }
    to, port, protocol = destinations["private 169.254.169.254"]
    assert not may_connect(policies, pods["ingest"], to, port, protocol)
    assert may_connect([*policies, open_egress], pods["ingest"], to, port, protocol)


# Kafka: the listener, the protocol the services speak, and the users' ACLs.

PROTOCOLS = {
    (False, None): "PLAINTEXT",
    (True, None): "SSL",
    (False, "scram-sha-512"): "SASL_PLAINTEXT",
    (True, "scram-sha-512"): "SASL_SSL",
}
# Operations that imply Describe (Kafka's ACL semantics).
IMPLY_DESCRIBE = {"Read", "Write", "Delete", "Alter", "All"}


def test_the_services_speak_the_listeners_protocol(overlay: list[Resource]) -> None:
    (kafka,) = by_kind(overlay, "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    config = by_kind(overlay, "ConfigMap")["treatywatch-config"]["data"]
    authentication = listener.get("authentication", {}).get("type")
    protocol = config.get("TREATYWATCH_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    assert protocol == PROTOCOLS[listener["tls"], authentication]
    if authentication:
        assert config["TREATYWATCH_KAFKA_SASL_MECHANISM"] == authentication.upper()
        assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
        assert "userOperator" in kafka["spec"]["entityOperator"], "KafkaUsers need the User Operator"
    for name, deployment in by_kind(overlay, "Deployment").items():
        assert ("TREATYWATCH_KAFKA_PASSWORD" in container_env(deployment)) == bool(authentication), name
    # One manifest for every overlay: without SCRAM users there is no password Secret, and none is needed.
    assert container_env(rebuild_job())["TREATYWATCH_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]["optional"] is True


def test_production_kafka_encrypts_and_authenticates() -> None:
    (kafka,) = by_kind(render(KUBERNETES / "overlays" / "prod"), "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}


def test_development_kafka_stays_plain() -> None:
    resources = render(KUBERNETES / "overlays" / "dev")
    (kafka,) = by_kind(resources, "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is False and "authentication" not in listener and by_kind(resources, "KafkaUser") == {}


def kafka_may(user: Resource, operation: str, kind: str, name: str = "kafka-cluster") -> bool:
    """Whether a KafkaUser's simple ACLs allow an operation on a resource."""
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != kind or acl.get("type", "allow") != "allow":
            continue
        if kind != "cluster":
            pattern, prefix = resource.get("patternType", "literal"), resource["name"]
            if not (prefix == "*" or (name.startswith(prefix) if pattern == "prefix" else name == prefix)):
                continue
        operations = set(acl["operations"])
        if operation in operations or "All" in operations or (operation == "Describe" and operations & IMPLY_DESCRIBE):
            return True
    return False


def test_each_kafka_user_may_do_only_what_its_service_does() -> None:
    resources = render(KUBERNETES / "overlays" / "prod")
    users = by_kind(resources, "KafkaUser")
    config = by_kind(resources, "ConfigMap")["treatywatch-config"]["data"]
    events, dead_letters = config["TREATYWATCH_TOPIC"], config["TREATYWATCH_DEAD_LETTER_TOPIC"]
    rebuild_groups = [arg(rebuild_job(slot), "--group") for slot in ("blue", "green")]
    groups = [*GROUPS.values(), *rebuild_groups, "someone-else"]
    probes = [
        *(
            (op, "topic", t)
            for op in ("Read", "Write", "Describe", "Create", "Delete", "Alter")
            for t in (events, dead_letters, "other")
        ),
        *((op, "group", g) for op in ("Read", "Describe", "Delete") for g in groups),
        *(
            (op, "cluster", "kafka-cluster")
            for op in ("IdempotentWrite", "Create", "Alter", "Describe", "ClusterAction")
        ),
    ]
    # Every service lists the topics at start (Describe on both); the producers are idempotent.
    describe_both = {("Describe", "topic", events), ("Describe", "topic", dead_letters)}
    registry_groups = [GROUPS["registry"], *rebuild_groups]
    needs = {
        "ingest": {("Write", "topic", events), ("IdempotentWrite", "cluster", "kafka-cluster"), *describe_both},
        "registry": {
            ("Read", "topic", events),
            ("Write", "topic", dead_letters),
            ("IdempotentWrite", "cluster", "kafka-cluster"),
            *describe_both,
            *((op, "group", g) for op in ("Read", "Describe") for g in registry_groups),
        },
        "notify": {
            ("Read", "topic", events),
            *describe_both,
            ("Read", "group", GROUPS["notify"]),
            ("Describe", "group", GROUPS["notify"]),
        },
    }
    deployments = by_kind(resources, "Deployment")
    for service, needed in needs.items():
        username = container_env(deployments[service])["TREATYWATCH_KAFKA_USERNAME"]["value"]
        assert {p for p in probes if kafka_may(users[username], *p)} == needed, service
    assert (
        container_env(rebuild_job())["TREATYWATCH_KAFKA_USERNAME"]["value"]
        == container_env(deployments["registry"])["TREATYWATCH_KAFKA_USERNAME"]["value"]
    )


def test_every_kafka_client_signs_in_as_its_user_and_trusts_the_cluster_ca() -> None:
    resources = render(KUBERNETES / "overlays" / "prod")
    (kafka,) = by_kind(resources, "Kafka").values()
    users = by_kind(resources, "KafkaUser")
    ca_file = PurePosixPath(by_kind(resources, "ConfigMap")["treatywatch-config"]["data"]["TREATYWATCH_KAFKA_CA_FILE"])
    workloads = [*by_kind(resources, "Deployment").values(), rebuild_job()]
    assert len({container_env(w)["TREATYWATCH_KAFKA_USERNAME"]["value"] for w in workloads}) == len(SERVICES)
    for workload in workloads:
        name, pod = workload["metadata"]["name"], workload["spec"]["template"]["spec"]
        env = container_env(workload)
        username = env["TREATYWATCH_KAFKA_USERNAME"]["value"]
        assert users[username]["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"], name
        # The User Operator writes the password into a Secret of the user's name.
        assert env["TREATYWATCH_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == username, name
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(ca_file.parent)]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert mount["readOnly"] is True, name
        assert volume["secret"]["secretName"] == f"{kafka['metadata']['name']}-cluster-ca-cert", name
        assert volume["secret"]["items"] == [{"key": "ca.crt", "path": ca_file.name}], name


# KEDA (overlays/prod-keda): the consumers scale on their groups' lag instead of CPU.


def test_keda_scales_the_consumers_on_their_groups_lag() -> None:
    resources = render(KUBERNETES / "overlays" / "prod-keda")
    config = by_kind(resources, "ConfigMap")["treatywatch-config"]["data"]
    (kafka,) = by_kind(resources, "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    scaled = by_kind(resources, "ScaledObject")
    authentications = by_kind(resources, "TriggerAuthentication")
    deployments = by_kind(resources, "Deployment")
    assert set(scaled) == set(CONSUMERS)
    assert set(by_kind(resources, "HorizontalPodAutoscaler")) == {"ingest"}, "KEDA's own HPA replaces ours"
    for name, scaled_object in scaled.items():
        assert scaled_object["metadata"]["namespace"] == deployments[name]["metadata"]["namespace"], name
        (trigger,) = scaled_object["spec"]["triggers"]
        metadata = trigger["metadata"]
        assert trigger["type"] == "kafka", name
        assert metadata["consumerGroup"] == GROUPS[name], name
        assert metadata["topic"] == config["TREATYWATCH_TOPIC"], name
        assert metadata["bootstrapServers"] == config["TREATYWATCH_KAFKA_BOOTSTRAP"], name
        assert metadata["offsetResetPolicy"] == "earliest" and metadata["allowIdleConsumers"] == "false", name
        assert int(metadata["lagThreshold"]) >= 1, name
        # Scale-down stays slow, as with the CPU autoscalers: every change rebalances the group.
        behavior = scaled_object["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300, name
        # The brokers' listener as the services see it: TLS and SCRAM sign-in as the service's own KafkaUser.
        assert (metadata.get("sasl"), metadata.get("tls")) == ("scram_sha512", "enable"), name
        assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"
        spec = authentications[trigger["authenticationRef"]["name"]]["spec"]
        env = container_env(deployments[name])
        (username,) = [e for e in spec["env"] if e["parameter"] == "username"]
        assert username["containerName"] == name and username["name"] in env, name
        secrets = {r["parameter"]: {"name": r["name"], "key": r["key"]} for r in spec["secretTargetRef"]}
        assert secrets["password"] == env["TREATYWATCH_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"], name
        assert secrets["ca"] == {"name": f"{kafka['metadata']['name']}-cluster-ca-cert", "key": "ca.crt"}, name


def test_the_keda_operator_may_reach_the_brokers() -> None:
    resources = render(KUBERNETES / "overlays" / "prod-keda")
    policies, _, destinations = network(resources)
    broker, port, protocol = destinations["kafka"]
    operator = Endpoint("10.0.9.1", {"app.kubernetes.io/name": "keda-operator"}, "keda")
    assert may_connect(policies, operator, broker, port, protocol)
    elsewhere = Endpoint("10.0.9.2", {"app.kubernetes.io/name": "keda-operator"}, "other")
    assert not may_connect(policies, elsewhere, broker, port, protocol)
