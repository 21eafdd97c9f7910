// Renders deploy/base, deploy/node-taskstats, every deploy/overlays/* and the keda overlay on
// node-taskstats (as its README says to stack them) with `kubectl kustomize` and checks each object:
//   - against its schema: Kubernetes (kubernetes-models), KEDA, prometheus-operator and
//     cert-manager (@kubernetes-models/*); an object of a kind none of them knows fails;
//   - for fields the schema does not know (the validators accept them; the TypeScript types of the
//     same packages do not), with `tsc --noEmit`;
//   - for references that must resolve: Services to pods and ports, ServiceMonitors to Services,
//     volumes to ConfigMaps, Secrets and claims, bindings to ServiceAccounts, the APIService to its
//     Service, images to the Dockerfile's targets, KEDA and HPA targets to the recommender's
//     workloads; and for generated objects that match alerts/ and dashboards/;
//   - that sharded-spans routes spans by trace ID to a StatefulSet of exporters.
// usage: node validate.mjs REPO_ROOT     (KUBECTL=/path/to/kubectl picks another kubectl)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.argv[2] ?? path.join(HERE, "..", ".."));
const DEPLOY = path.join(ROOT, "deploy");
const KUBECTL = process.env.KUBECTL || "kubectl";
const MODEL_PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/keda",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/cert-manager",
];
// Made by the operator before applying the overlay (deploy/README.md), so not in any render.
const PREREQUISITES = new Set(["ConfigMap/queuelens/queuelens-requestheader-ca"]);
// Bound by name, defined by Kubernetes itself.
const BUILTIN_ROLES = new Set([
  "ClusterRole/system:auth-delegator",
  "Role/kube-system/extension-apiserver-authentication-reader",
]);

function kubectlVersion() {
  const out = execFileSync(KUBECTL, ["version", "--client"], { encoding: "utf8" });
  const m = out.match(/GitVersion:"(v[^"]+)"/) || out.match(/Client Version: (v\S+)/);
  return m ? m[1] : out.trim();
}

function render(dir) {
  const out = execFileSync(KUBECTL, ["kustomize", dir], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return YAML.parseAllDocuments(out)
    .map((d) => {
      assert.equal(d.errors.length, 0, `${dir}: kubectl printed invalid YAML: ${d.errors}`);
      return d.toJS();
    })
    .filter(Boolean);
}

const key = (o) =>
  `${o.kind}/${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name}`;
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const find = (objs, kind, ns, name) =>
  objs.find(
    (o) =>
      o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? "") === (ns ?? ""),
  );
const podSpec = (o) => o.spec?.template?.spec ?? (o.kind === "Pod" ? o.spec : undefined);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

async function modelFor(apiVersion, kind) {
  for (const pkg of MODEL_PACKAGES) {
    let mod;
    try {
      mod = await import(`${pkg}/${apiVersion}`);
    } catch {
      continue;
    }
    if (typeof mod[kind] === "function") return { pkg, Model: mod[kind] };
  }
  return null;
}

// A copy of the keda overlay whose base is node-taskstats, as deploy/README.md tells operators
// to combine the two.
function kedaOnNodeTaskstats() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "queuelens-keda-taskstats-"));
  const keda = path.join(DEPLOY, "overlays", "keda");
  for (const f of fs.readdirSync(keda)) fs.copyFileSync(path.join(keda, f), path.join(dir, f));
  const file = path.join(dir, "kustomization.yaml");
  const text = fs.readFileSync(file, "utf8");
  assert.match(text, /^  - \.\.\/\.\.\/base$/m, "the keda overlay names ../../base");
  const base = path.relative(dir, path.join(DEPLOY, "node-taskstats"));
  fs.writeFileSync(file, text.replace(/^  - \.\.\/\.\.\/base$/m, `  - ${base}`));
  return dir;
}

const TASKSTATS_KEDA = "overlays/keda on node-taskstats";
const overlays = [
  ["base", path.join(DEPLOY, "base")],
  ["node-taskstats", path.join(DEPLOY, "node-taskstats")],
  ["node-captain", path.join(DEPLOY, "node-captain")],
  ...fs
    .readdirSync(path.join(DEPLOY, "overlays"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => [`overlays/${e.name}`, path.join(DEPLOY, "overlays", e.name)]),
];
const rendered = new Map();

test("kubectl kustomize renders the base and every overlay", (t) => {
  const where = execFileSync("sh", ["-c", `command -v ${KUBECTL}`], { encoding: "utf8" }).trim();
  t.diagnostic(`kubectl: ${where} ${kubectlVersion()}`);
  assert.deepEqual(fs.readdirSync(path.join(DEPLOY, "overlays")).sort(), [
    "hpa-external-metrics",
    "inplace-resize",
    "keda",
    "keda-external",
    "pod-deletion-cost",
    "prometheus-adapter",
    "sharded-spans",
    "vpa-recommender",
  ]);
  const stacked = kedaOnNodeTaskstats();
  try {
    for (const [name, dir] of [...overlays, [TASKSTATS_KEDA, stacked]]) {
      const objs = render(dir);
      assert.ok(objs.length > 0, dir);
      const keys = objs.map(key);
      assert.equal(new Set(keys).size, keys.length, `${dir}: an object is rendered twice`);
      rendered.set(name, objs);
    }
  } finally {
    fs.rmSync(stacked, { recursive: true, force: true });
  }
});

test("every object validates against its schema", async () => {
  for (const [name, objs] of rendered) {
    for (const o of objs) {
      const found = await modelFor(o.apiVersion, o.kind);
      assert.ok(found, `${name}: no schema for ${o.apiVersion} ${o.kind}`);
      try {
        new found.Model(o).validate();
      } catch (e) {
        assert.fail(`${name}: ${key(o)}: ${e.message}`);
      }
    }
  }
});

test("no object has a field its schema does not know (tsc)", async () => {
  // tsc resolves the model packages through a link to this package's node_modules.
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "queuelens-deploy-"));
  fs.symlinkSync(path.join(HERE, "node_modules"), path.join(src, "node_modules"), "dir");
  try {
    const files = [];
    for (const [name, objs] of rendered) {
      const imports = new Map();
      const lines = [];
      for (const [i, o] of objs.entries()) {
        const { pkg } = await modelFor(o.apiVersion, o.kind);
        const alias = `I${o.kind}_${imports.size}`;
        const spec = `${pkg}/${o.apiVersion}/${o.kind}`;
        if (!imports.has(spec)) imports.set(spec, alias);
        lines.push(
          `// ${key(o)}\nexport const o${i}: ${imports.get(spec)} = ${JSON.stringify(o, null, 1)};`,
        );
      }
      const head = [...imports].map(([spec, alias]) => {
        const kind = spec.slice(spec.lastIndexOf("/") + 1);
        return `import type { I${kind} as ${alias} } from "${spec}";`;
      });
      const file = path.join(src, `${name.replaceAll("/", "_")}.ts`);
      fs.writeFileSync(file, head.concat(lines).join("\n") + "\n");
      files.push(file);
    }
    const tsc = path.join(HERE, "node_modules", "typescript", "bin", "tsc");
    try {
      execFileSync(
        process.execPath,
        [
          tsc,
          "--noEmit",
          "--strict",
          "--skipLibCheck",
          "--target",
          "es2022",
          "--module",
          "nodenext",
          "--moduleResolution",
          "nodenext",
          ...files,
        ],
        { encoding: "utf8", cwd: HERE },
      );
    } catch (e) {
      assert.fail(`unknown or mistyped fields:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
});

test("namespaced objects name their namespace", () => {
  const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "APIService"]);
  for (const [name, objs] of rendered) {
    for (const o of objs) {
      if (clusterScoped.has(o.kind))
        assert.equal(o.metadata.namespace, undefined, `${name}: ${key(o)}`);
      else
        assert.ok(
          o.metadata.namespace,
          `${name}: ${key(o)} would land in whatever namespace kubectl uses`,
        );
    }
  }
});

test("Services select pods and name their ports", () => {
  for (const [name, objs] of rendered) {
    for (const svc of byKind(objs, "Service")) {
      const pods = objs.filter(
        (o) =>
          podSpec(o) &&
          o.metadata.namespace === svc.metadata.namespace &&
          matches(svc.spec.selector, o.spec.template.metadata.labels),
      );
      assert.ok(pods.length > 0, `${name}: ${key(svc)} selects no pods`);
      const portNames = new Set(
        pods.flatMap((p) =>
          podSpec(p)
            .containers.flatMap((c) => c.ports ?? [])
            .map((p) => p.name),
        ),
      );
      for (const p of svc.spec.ports) {
        if (typeof p.targetPort === "string")
          assert.ok(portNames.has(p.targetPort), `${name}: ${key(svc)} port ${p.targetPort}`);
      }
    }
  }
});

test("ServiceMonitors select Services and their ports", () => {
  for (const [name, objs] of rendered) {
    const monitors = byKind(objs, "ServiceMonitor");
    assert.equal(monitors.length, 3, name);
    for (const sm of monitors) {
      const services = byKind(objs, "Service").filter(
        (s) =>
          s.metadata.namespace === sm.metadata.namespace &&
          matches(sm.spec.selector.matchLabels, s.metadata.labels),
      );
      assert.equal(services.length, 1, `${name}: ${key(sm)} selects ${services.length} Services`);
      assert.equal(sm.metadata.labels.release, "kube-prometheus-stack", key(sm));
      for (const ep of sm.spec.endpoints) {
        assert.ok(
          services[0].spec.ports.some((p) => p.name === ep.port),
          `${key(sm)} port ${ep.port}`,
        );
        assert.equal(
          ep.honorLabels,
          true,
          `${key(sm)}: queuelens series carry their own namespace/pod labels`,
        );
      }
    }
  }
});

test("pods reference objects that exist", () => {
  for (const [name, objs] of rendered) {
    const secretsFromCertificates = new Set(
      byKind(objs, "Certificate").map((c) => `Secret/${c.metadata.namespace}/${c.spec.secretName}`),
    );
    const exists = (k) =>
      objs.some((o) => key(o) === k) || PREREQUISITES.has(k) || secretsFromCertificates.has(k);
    for (const w of objs.filter(podSpec)) {
      const ns = w.metadata.namespace;
      const spec = podSpec(w);
      assert.ok(
        exists(`ServiceAccount/${ns}/${spec.serviceAccountName}`),
        `${name}: ${key(w)} service account`,
      );
      for (const v of spec.volumes ?? []) {
        if (v.configMap)
          assert.ok(
            exists(`ConfigMap/${ns}/${v.configMap.name}`),
            `${name}: ${key(w)} ConfigMap ${v.configMap.name}`,
          );
        if (v.secret)
          assert.ok(
            exists(`Secret/${ns}/${v.secret.secretName}`),
            `${name}: ${key(w)} Secret ${v.secret.secretName}`,
          );
        if (v.persistentVolumeClaim)
          assert.ok(
            exists(`PersistentVolumeClaim/${ns}/${v.persistentVolumeClaim.claimName}`),
            `${name}: ${key(w)} claim`,
          );
      }
      for (const c of spec.containers) {
        const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
        for (const m of c.volumeMounts ?? [])
          assert.ok(volumes.has(m.name), `${name}: ${key(w)} mounts ${m.name}`);
      }
    }
    for (const b of [...byKind(objs, "RoleBinding"), ...byKind(objs, "ClusterRoleBinding")]) {
      for (const s of b.subjects.filter(
        (s) => s.kind === "ServiceAccount" && s.namespace !== "kube-system",
      )) {
        assert.ok(
          exists(`ServiceAccount/${s.namespace}/${s.name}`),
          `${name}: ${key(b)} binds ${s.namespace}/${s.name}`,
        );
      }
      const role =
        b.roleRef.kind === "Role"
          ? `Role/${b.metadata.namespace}/${b.roleRef.name}`
          : `ClusterRole/${b.roleRef.name}`;
      assert.ok(exists(role) || BUILTIN_ROLES.has(role), `${name}: ${key(b)} refers to ${role}`);
    }
    for (const a of byKind(objs, "APIService")) {
      const svc = find(objs, "Service", a.spec.service.namespace, a.spec.service.name);
      assert.ok(svc, `${name}: ${key(a)} points at no Service`);
      assert.ok(
        svc.spec.ports.some((p) => p.port === (a.spec.service.port ?? 443)),
        `${name}: ${key(a)} port`,
      );
      assert.ok(
        a.spec.caBundle ||
          a.spec.insecureSkipTLSVerify ||
          a.metadata.annotations?.["cert-manager.io/inject-ca-from"],
        `${name}: ${key(a)}: nothing tells the aggregator which CA to trust`,
      );
    }
  }
});

// The one workload allowed more than the unprivileged defaults: node-taskstats' node exporter,
// which needs the host's PID and network namespaces and CAP_NET_ADMIN for taskstats queries.
const TASKSTATS_RENDERS = new Set(["node-taskstats", TASKSTATS_KEDA]);
const isTaskstatsExporter = (name, w) =>
  TASKSTATS_RENDERS.has(name) && key(w) === "DaemonSet/queuelens/queuelens-exporter-node";

// And node-captain's node exporter, which writes CPU quotas: uid 0 (the owner of the cgroup
// control files) and the host's cgroupfs read-write, no capability and no host namespace.
const isCaptainExporter = (name, w) =>
  name === "node-captain" && key(w) === "DaemonSet/queuelens/queuelens-exporter-node";
const CAPTAIN_WRITABLE = { hostPath: "/sys/fs/cgroup", mountPath: "/host/sys/fs/cgroup" };

test("queuelens containers run unprivileged", () => {
  for (const [name, objs] of rendered) {
    for (const w of objs.filter(podSpec)) {
      const spec = podSpec(w);
      const taskstats = isTaskstatsExporter(name, w);
      const captain = isCaptainExporter(name, w);
      assert.equal(spec.hostNetwork ?? false, taskstats, `${name}: ${key(w)}`);
      assert.equal(spec.hostPID ?? false, taskstats, `${name}: ${key(w)}`);
      assert.equal(
        spec.securityContext?.runAsNonRoot,
        !taskstats && !captain,
        `${name}: ${key(w)} runAsNonRoot`,
      );
      for (const c of spec.containers) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${name}: ${key(w)}/${c.name}`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${name}: ${key(w)}/${c.name}`);
        assert.deepEqual(
          sc.capabilities,
          taskstats ? { drop: ["ALL"], add: ["NET_ADMIN"] } : { drop: ["ALL"] },
          `${name}: ${key(w)}/${c.name}: no capability is added but taskstats' NET_ADMIN`,
        );
        assert.ok(!sc.privileged, `${name}: ${key(w)}/${c.name}`);
      }
      for (const v of spec.volumes ?? []) {
        if (!v.hostPath) continue;
        const mounts = spec.containers
          .flatMap((c) => c.volumeMounts ?? [])
          .filter((m) => m.name === v.name);
        // node-captain's one writable mount: the host's cgroupfs, where the quotas are.
        const writable = captain && v.hostPath.path === CAPTAIN_WRITABLE.hostPath;
        assert.ok(
          mounts.every((m) =>
            writable ? m.mountPath === CAPTAIN_WRITABLE.mountPath && !m.readOnly : m.readOnly === true,
          ),
          `${name}: ${key(w)} mounts host ${v.hostPath.path} writable`,
        );
      }
    }
  }
});

test("images are the Dockerfile's targets at the project's version", () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]));
  const version = fs
    .readFileSync(path.join(ROOT, "CMakeLists.txt"), "utf8")
    .match(/project\(queuelens VERSION (\S+)/)[1];
  const seen = new Set();
  for (const objs of rendered.values()) {
    for (const w of objs.filter(podSpec)) {
      for (const c of podSpec(w).containers) {
        const m = c.image.match(/^queuelens-([a-z]+):(.+)$/);
        if (!m) {
          // Third-party images, at a pinned version.
          assert.match(
            c.image,
            /^(registry\.k8s\.io\/prometheus-adapter\/prometheus-adapter:v|otel\/opentelemetry-collector(-contrib)?:)\d+\.\d+\.\d+$/,
            `${key(w)}: ${c.image}`,
          );
          continue;
        }
        assert.ok(stages.has(m[1]), `${key(w)}: the Dockerfile has no target ${m[1]}`);
        assert.equal(m[2], version, `${key(w)}: ${c.image}`);
        seen.add(m[1]);
      }
    }
  }
  assert.deepEqual([...seen].sort(), ["exporter", "recommender"]);
  assert.match(dockerfile, /^USER\s+65532:65532$/m);
});

test("generated objects match alerts/ and dashboards/", () => {
  const base = rendered.get("base");
  const rules = byKind(base, "PrometheusRule");
  const ruleFiles = fs
    .readdirSync(path.join(ROOT, "alerts"))
    .filter((f) => f.endsWith(".rules.yml"));
  assert.equal(rules.length, ruleFiles.length);
  for (const f of ruleFiles) {
    const rule = find(
      base,
      "PrometheusRule",
      "queuelens",
      "queuelens-" + f.slice(0, -".rules.yml".length),
    );
    assert.ok(rule, f);
    assert.deepEqual(
      rule.spec,
      YAML.parse(fs.readFileSync(path.join(ROOT, "alerts", f), "utf8")),
      `${f} changed: run deploy/generate.py`,
    );
    assert.equal(rule.metadata.labels.release, "kube-prometheus-stack");
  }
  const dashboards = byKind(base, "ConfigMap").filter(
    (c) => c.metadata.labels?.grafana_dashboard === "1",
  );
  const jsonFiles = fs
    .readdirSync(path.join(ROOT, "dashboards"))
    .filter((f) => f.endsWith(".json"));
  assert.equal(dashboards.length, jsonFiles.length);
  for (const f of jsonFiles) {
    const cm = dashboards.find((c) => c.data[f] !== undefined);
    assert.ok(cm, `no ConfigMap carries ${f}`);
    assert.deepEqual(
      JSON.parse(cm.data[f]),
      JSON.parse(fs.readFileSync(path.join(ROOT, "dashboards", f), "utf8")),
      `${f} changed: run deploy/generate.py`,
    );
  }
});

function recommenderWorkloads(objs) {
  const cm = byKind(objs, "ConfigMap").find((c) =>
    c.metadata.name.startsWith("queuelens-recommender-config"),
  );
  const deployment = find(objs, "Deployment", "queuelens", "queuelens-recommender");
  assert.ok(podSpec(deployment).volumes.some((v) => v.configMap?.name === cm.metadata.name));
  const config = YAML.parse(cm.data["workloads.yaml"]);
  return new Set(config.workloads.map((w) => `${w.namespace}/${w.workload}`));
}

test("node exporters read the kernel; their Captains fetch targets from the recommender", () => {
  const objs = rendered.get("base");
  const exporter = podSpec(find(objs, "DaemonSet", "queuelens", "queuelens-exporter-node"))
    .containers[0];
  assert.ok(exporter.args.includes("--kernel.enabled"), "the node exporter reads the kernel");
  assert.ok(
    exporter.args.some((a) => a.startsWith("--kubelet.url=https://")) &&
      (exporter.args.includes("--kubelet.insecure-skip-verify") ||
        exporter.args.some((a) => a.startsWith("--kubelet.ca-file="))),
    "an https kubelet URL comes with a way to trust the kubelet's certificate",
  );
  const flag = exporter.args.find((a) => a.startsWith("--recommender.url="));
  assert.ok(flag, "the DaemonSet passes --recommender.url");
  const url = new URL(flag.slice("--recommender.url=".length));
  const svc = find(objs, "Service", "queuelens", url.hostname);
  assert.ok(svc.spec.ports.some((p) => String(p.port) === url.port), flag);
});

test("keda: a metrics-api and a prometheus ScaledObject on recommended replicas", () => {
  const objs = rendered.get("overlays/keda");
  assert.equal(byKind(objs, "APIService").length, 0, "KEDA serves the external-metrics API itself");
  const workloads = recommenderWorkloads(objs);
  const triggers = byKind(objs, "ScaledObject").flatMap((so) =>
    so.spec.triggers.map((t) => ({ so, t })),
  );
  assert.deepEqual(triggers.map(({ t }) => t.type).sort(), ["metrics-api", "prometheus"]);
  for (const { so, t } of triggers) {
    const ns = so.metadata.namespace;
    const workload = so.spec.scaleTargetRef.name;
    assert.ok(
      workloads.has(`${ns}/${workload}`),
      `${key(so)}: the recommender does not size ${ns}/${workload}`,
    );
    assert.equal(t.metricType, "AverageValue", key(so));
    assert.ok(
      so.spec.minReplicaCount >= 1,
      `${key(so)}: a replica recommendation never asks for zero`,
    );
    if (t.type === "metrics-api") {
      const url = new URL(t.metadata.url);
      const [svcName, svcNs] = url.hostname.split(".");
      const svc = find(objs, "Service", svcNs, svcName);
      assert.ok(svc, `${key(so)}: ${url.hostname} is no Service here`);
      assert.ok(
        svc.spec.ports.some((p) => p.port === Number(url.port)),
        `${key(so)}: port ${url.port}`,
      );
      assert.equal(url.pathname, `/api/v1/recommendations/${ns}/${workload}`);
      assert.deepEqual(
        [t.metadata.format, t.metadata.valueLocation, t.metadata.targetValue],
        ["json", "replicas", "1"],
      );
    } else {
      assert.equal(
        t.metadata.query,
        `max(queuelens_recommended_replicas{namespace="${ns}",workload="${workload}"})`,
      );
      assert.equal(t.metadata.threshold, "1");
    }
  }
});

test("keda-external: external-push ScaledObjects on the recommender's gRPC port", () => {
  const objs = rendered.get("overlays/keda-external");
  assert.equal(byKind(objs, "APIService").length, 0, "KEDA serves the external-metrics API itself");
  const workloads = recommenderWorkloads(objs);
  const recommender = podSpec(find(objs, "Deployment", "queuelens", "queuelens-recommender"))
    .containers[0];
  const flag = recommender.args.find((a) => a.startsWith("--grpc.listen-address="));
  assert.ok(flag, "the recommender serves gRPC");
  const listenPort = Number(flag.split(":").pop());
  const containerPort = recommender.ports.find((p) => p.containerPort === listenPort);
  assert.ok(containerPort, `no container port ${listenPort}`);
  const scaledObjects = byKind(objs, "ScaledObject");
  assert.ok(scaledObjects.length > 0);
  for (const so of scaledObjects) {
    const ns = so.metadata.namespace;
    const [t] = so.spec.triggers;
    assert.equal(so.spec.triggers.length, 1, key(so));
    assert.equal(t.type, "external-push", key(so));
    assert.equal(t.metricType, "AverageValue", key(so));
    assert.ok(so.spec.minReplicaCount >= 1, `${key(so)}: the example workloads keep a replica`);
    // The workload the scaler resolves: metadata, else the ScaledObject's name and namespace.
    const workload = `${t.metadata.namespace ?? ns}/${t.metadata.workload ?? so.metadata.name}`;
    assert.ok(workloads.has(workload), `${key(so)}: the recommender does not size ${workload}`);
    assert.equal(t.metadata.workload ?? so.metadata.name, so.spec.scaleTargetRef.name, key(so));
    assert.ok(["replicas", undefined].includes(t.metadata.metric), key(so));
    const [host, port] = t.metadata.scalerAddress.split(":");
    const [svcName, svcNs] = host.split(".");
    const svc = find(objs, "Service", svcNs, svcName);
    assert.ok(svc, `${key(so)}: ${host} is no Service here`);
    const svcPort = svc.spec.ports.find((p) => p.port === Number(port));
    assert.ok(svcPort, `${key(so)}: port ${port}`);
    assert.ok(
      [containerPort.name, containerPort.containerPort].includes(svcPort.targetPort),
      `${key(so)}: Service port ${port} does not reach the gRPC listener`,
    );
  }
});

function checkHpa(objs, name) {
  assert.equal(
    byKind(objs, "APIService").filter((a) => a.metadata.name === "v1beta1.external.metrics.k8s.io")
      .length,
    1,
    name,
  );
  const workloads = recommenderWorkloads(objs);
  const hpas = byKind(objs, "HorizontalPodAutoscaler");
  assert.ok(hpas.length > 0, name);
  for (const hpa of hpas) {
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    const [m] = hpa.spec.metrics;
    assert.equal(m.type, "External");
    assert.equal(m.external.metric.name, "queuelens-recommended-replicas");
    assert.deepEqual(m.external.target, { type: "AverageValue", averageValue: "1" });
    const workload = m.external.metric.selector.matchLabels.workload;
    assert.equal(workload, hpa.spec.scaleTargetRef.name);
    assert.ok(
      workloads.has(`${hpa.metadata.namespace}/${workload}`),
      `${key(hpa)}: not a recommender workload`,
    );
  }
  const binding = byKind(objs, "ClusterRoleBinding").find((b) =>
    b.subjects.some((s) => s.name === "horizontal-pod-autoscaler" && s.namespace === "kube-system"),
  );
  assert.ok(binding, `${name}: the HPA controller may not read external metrics`);
}

test("hpa-external-metrics: the recommender serves the external-metrics API", () => {
  const objs = rendered.get("overlays/hpa-external-metrics");
  checkHpa(objs, "hpa-external-metrics");
  const rec = podSpec(find(objs, "Deployment", "queuelens", "queuelens-recommender")).containers[0];
  for (const flag of [
    "--apiserver.listen-address=:6443",
    "--tls.cert-file=",
    "--tls.key-file=",
    "--requestheader.client-ca-file=",
  ]) {
    assert.ok(
      rec.args.some((a) => a.startsWith(flag)),
      flag,
    );
  }
  const api = find(objs, "APIService", undefined, "v1beta1.external.metrics.k8s.io");
  assert.equal(api.spec.service.name, "queuelens-recommender");
  const [certNs, certName] = api.metadata.annotations["cert-manager.io/inject-ca-from"].split("/");
  const cert = find(objs, "Certificate", certNs, certName);
  assert.ok(
    cert.spec.dnsNames.includes(`${api.spec.service.name}.${api.spec.service.namespace}.svc`),
  );
  const tls = podSpec(find(objs, "Deployment", "queuelens", "queuelens-recommender")).volumes.find(
    (v) => v.secret,
  );
  assert.equal(tls.secret.secretName, cert.spec.secretName);
});

test("prometheus-adapter: external rules for queuelens metrics", () => {
  const objs = rendered.get("overlays/prometheus-adapter");
  checkHpa(objs, "prometheus-adapter");
  const api = find(objs, "APIService", undefined, "v1beta1.external.metrics.k8s.io");
  assert.equal(api.spec.service.name, "queuelens-prometheus-adapter");
  const cm = byKind(objs, "ConfigMap").find((c) =>
    c.metadata.name.startsWith("queuelens-prometheus-adapter-config"),
  );
  const config = YAML.parse(cm.data["config.yaml"]);
  assert.deepEqual(
    Object.keys(config),
    ["externalRules"],
    "only external metrics: resource metrics stay with their adapter",
  );
  assert.deepEqual(config.externalRules.map((r) => r.name.as).sort(), [
    "queuelens-inflight-requests",
    "queuelens-queue-length",
    "queuelens-recommended-replicas",
  ]);
  for (const r of config.externalRules) {
    assert.match(r.metricsQuery, /<<\.Series>>\{<<\.LabelMatchers>>\}/);
    assert.equal(r.resources.overrides.namespace.resource, "namespace");
  }
});

test("node-taskstats: the base with the node exporter on taskstats, nothing else changed", () => {
  const base = rendered.get("base");
  for (const name of TASKSTATS_RENDERS) {
    const objs = rendered.get(name);
    const ds = find(objs, "DaemonSet", "queuelens", "queuelens-exporter-node");
    const spec = podSpec(ds);
    assert.equal(spec.dnsPolicy, "ClusterFirstWithHostNet", `${name}: Service names resolve`);
    assert.equal(spec.securityContext.runAsUser, 0, `${name}: uid 0 keeps NET_ADMIN`);
    const exporter = spec.containers[0];
    assert.equal(exporter.args.filter((a) => a.startsWith("--kernel.taskstats")).length, 1);
    assert.ok(exporter.args.includes("--kernel.taskstats=on"), `${name}: fails loudly, not back`);
    // taskstats takes PIDs of the exporter's namespace: --path.procfs is the host's /proc.
    const procfs = exporter.args.find((a) => a.startsWith("--path.procfs=")).split("=")[1];
    const mount = exporter.volumeMounts.find((m) => m.mountPath === procfs);
    assert.equal(spec.volumes.find((v) => v.name === mount.name).hostPath.path, "/proc");

    const baseDs = find(base, "DaemonSet", "queuelens", "queuelens-exporter-node");
    const strip = (d) => {
      const c = structuredClone(d);
      const s = podSpec(c);
      for (const k of ["hostPID", "hostNetwork", "dnsPolicy"]) delete s[k];
      delete s.securityContext.runAsNonRoot;
      delete s.securityContext.runAsUser;
      delete s.containers[0].securityContext.capabilities.add;
      s.containers[0].args = s.containers[0].args.filter((a) => a !== "--kernel.taskstats=on");
      return c;
    };
    assert.deepEqual(strip(ds), strip(baseDs), `${name}: the DaemonSet differs in more`);
  }
  const others = rendered
    .get("node-taskstats")
    .filter((o) => key(o) !== "DaemonSet/queuelens/queuelens-exporter-node");
  assert.deepEqual(
    others,
    base.filter((o) => key(o) !== "DaemonSet/queuelens/queuelens-exporter-node"),
  );
  assert.deepEqual(
    rendered.get(TASKSTATS_KEDA).map(key).sort(),
    rendered.get("overlays/keda").map(key).sort(),
    "stacked on node-taskstats, the keda overlay renders the same objects",
  );
});

test("node-captain: the base with the node exporter writing quotas, nothing else changed", () => {
  const base = rendered.get("base");
  const objs = rendered.get("node-captain");
  const ds = find(objs, "DaemonSet", "queuelens", "queuelens-exporter-node");
  const spec = podSpec(ds);
  assert.equal(spec.securityContext.runAsUser, 0, "uid 0 owns the cgroup control files");
  const exporter = spec.containers[0];
  assert.deepEqual(exporter.securityContext.capabilities, { drop: ["ALL"] }, "no capability");
  assert.equal(exporter.args.filter((a) => a === "--captain.apply").length, 1);
  // The quotas are written under --path.sysfs: the writable mount is its fs/cgroup.
  const sysfs = exporter.args.find((a) => a.startsWith("--path.sysfs=")).split("=")[1];
  assert.equal(`${sysfs}/fs/cgroup`, CAPTAIN_WRITABLE.mountPath);
  const writable = exporter.volumeMounts.filter((m) => !m.readOnly);
  assert.deepEqual(
    writable.map((m) => [m.mountPath, spec.volumes.find((v) => v.name === m.name).hostPath.path]),
    [[CAPTAIN_WRITABLE.mountPath, CAPTAIN_WRITABLE.hostPath]],
    "the host's cgroupfs is the one writable mount",
  );
  // --captain.apply needs the kubelet's pod list (only it opts pods in).
  assert.ok(exporter.args.some((a) => a.startsWith("--kubelet.url=")));

  const baseDs = find(base, "DaemonSet", "queuelens", "queuelens-exporter-node");
  const strip = (d) => {
    const c = structuredClone(d);
    const s = podSpec(c);
    delete s.securityContext.runAsNonRoot;
    delete s.securityContext.runAsUser;
    delete s.terminationGracePeriodSeconds;
    s.containers[0].args = s.containers[0].args.filter((a) => a !== "--captain.apply");
    s.containers[0].volumeMounts = s.containers[0].volumeMounts.filter((m) => m.name !== "cgroup");
    s.volumes = s.volumes.filter((v) => v.name !== "cgroup");
    return c;
  };
  assert.deepEqual(strip(ds), strip(baseDs), "the DaemonSet differs in more");
  assert.deepEqual(
    objs.filter((o) => key(o) !== "DaemonSet/queuelens/queuelens-exporter-node"),
    base.filter((o) => key(o) !== "DaemonSet/queuelens/queuelens-exporter-node"),
  );
});

// The collector configuration a pod mounts at the directory its --config= names.
function collectorConfig(objs, w, container) {
  const spec = podSpec(w);
  const file = container.args.find((a) => a.startsWith("--config=")).slice("--config=".length);
  const mount = container.volumeMounts.find((m) => file.startsWith(m.mountPath + "/"));
  const volume = spec.volumes.find((v) => v.name === mount.name);
  const cm = find(objs, "ConfigMap", w.metadata.namespace, volume.configMap.name);
  return YAML.parse(cm.data[file.slice(mount.mountPath.length + 1)]);
}

const portOf = (address) => Number(address.slice(address.lastIndexOf(":") + 1));

test("sharded-spans: a trace's spans all reach one exporter, by trace ID", () => {
  const objs = rendered.get("overlays/sharded-spans");
  assert.equal(find(objs, "Deployment", "queuelens", "queuelens-exporter-spans"), undefined);
  const shards = find(objs, "StatefulSet", "queuelens", "queuelens-exporter-spans");
  assert.ok(shards.spec.replicas >= 2);

  // The router: traces pipeline into the loadbalancing exporter, by trace ID.
  const router = find(objs, "Deployment", "queuelens", "queuelens-span-router");
  const config = collectorConfig(objs, router, podSpec(router).containers[0]);
  assert.deepEqual(config.service.pipelines.traces.exporters, ["loadbalancing"]);
  const lb = config.exporters.loadbalancing;
  assert.ok(
    lb.routing_key === undefined || lb.routing_key === "traceID",
    `routing_key ${lb.routing_key}: only traceID keeps a trace in one exporter`,
  );
  assert.ok(lb.protocol.otlp, "the loadbalancing exporter sends OTLP/gRPC");

  // Its backends: the headless Service of the StatefulSet, on the receiver beside each shard.
  const { hostname, port = 4317 } = lb.resolver.dns;
  const [svcName, svcNs] = hostname.split(".");
  assert.equal(hostname, `${svcName}.${svcNs}.svc.cluster.local`);
  const headless = find(objs, "Service", svcNs, svcName);
  assert.ok(headless, `${hostname} is no Service here`);
  assert.equal(headless.spec.clusterIP, "None", "DNS must return every shard, not a virtual IP");
  assert.equal(shards.spec.serviceName, svcName);
  assert.ok(matches(headless.spec.selector, shards.spec.template.metadata.labels));
  const svcPort = headless.spec.ports.find((p) => p.port === port);
  assert.ok(svcPort, `${key(headless)} has no port ${port}`);
  const [exporter, receiver] = ["queuelens-exporter", "otel/"].map((prefix) =>
    podSpec(shards).containers.find((c) => c.image.startsWith(prefix)),
  );
  assert.ok(
    (receiver.ports ?? []).some((p) => p.name === svcPort.targetPort),
    `${svcPort.targetPort} is no port of the receiver beside each shard`,
  );
  // The receiver takes OTLP/gRPC on that port and passes it to this pod's exporter only.
  const rc = collectorConfig(objs, shards, receiver);
  const grpc = rc.receivers.otlp.protocols.grpc.endpoint;
  assert.equal(
    portOf(grpc),
    receiver.ports.find((p) => p.name === svcPort.targetPort).containerPort,
  );
  const otlpFlag = exporter.args.find((a) => a.startsWith("--otlp.listen-address="));
  const listen = otlpFlag.slice("--otlp.listen-address=".length);
  assert.match(listen, /^127\.0\.0\.1:/, "spans reach a shard through the router only");
  const target = new URL(rc.exporters.otlphttp.endpoint);
  assert.equal(target.hostname, "127.0.0.1");
  assert.equal(Number(target.port), portOf(listen));
  assert.deepEqual(rc.service.pipelines.traces.exporters, ["otlphttp"]);

  // Nothing else takes spans: the base Service has lost its OTLP port, the router has them.
  const base = find(objs, "Service", "queuelens", "queuelens-exporter-spans");
  assert.deepEqual(
    base.spec.ports.map((p) => p.name),
    ["http"],
  );
  const routerSvc = find(objs, "Service", "queuelens", "queuelens-span-router");
  assert.deepEqual(routerSvc.spec.ports.map((p) => p.port).sort(), [4317, 4318]);

  // Each shard's series stay apart under honorLabels.
  const sm = find(objs, "ServiceMonitor", "queuelens", "queuelens-exporter-spans");
  assert.ok(
    sm.spec.endpoints[0].relabelings.some(
      (r) => r.targetLabel === "shard" && r.sourceLabels?.includes("__meta_kubernetes_pod_name"),
    ),
  );
});

test("no collector configuration under deploy/ routes spans by service name", () => {
  const files = execFileSync("find", [DEPLOY, "-type", "f"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  for (const f of files) {
    assert.doesNotMatch(fs.readFileSync(f, "utf8"), /^\s*routing_key:\s*"?service\b/m, f);
  }
});
