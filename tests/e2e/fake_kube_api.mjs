// A fake Kubernetes API server for queuelens-recommender's actuators, on 127.0.0.1 and a free
// port (printed as "listening on port N"). It implements only the endpoints the recommender uses:
//   GET   /api/v1/namespaces/{ns}/pods?labelSelector=k=v     GET /api/v1/namespaces/{ns}/pods/{name}
//   PATCH /api/v1/namespaces/{ns}/pods/{name}/resize         (strategic merge patch)
//   PATCH /api/v1/namespaces/{ns}/pods/{name}    merge or strategic merge patch of
//                                                metadata.annotations only (pod-deletion-cost)
//   GET   /apis/autoscaling.k8s.io/v1/verticalpodautoscalers  (list, and watch=1)
//   PATCH /apis/autoscaling.k8s.io/v1/namespaces/{ns}/verticalpodautoscalers/{name}/status
//   GET/PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}, POST .../leases
// and validates every written object against the real schemas: Pod and Lease with
// kubernetes-models, VerticalPodAutoscaler with the CRD's openAPIV3Schema
// (tests/fixtures/vpa). Scripted faults, each once: a 409 on the first resize of cart-a, a 429
// with Retry-After: 1 on the first resize of cart-b, a 500 on the first VPA status write, and a
// 410 Gone as the first watch's event. cart-c starts with an Infeasible resize to 1 core, and
// resizes above a pod's "node capacity" are Infeasible.
// The test reads what happened from GET /_test/log and adds objects with POST /_test/vpa;
// POST /_test/fault {"podPatch": CODE|null} makes every pod metadata PATCH answer CODE until reset.
// usage: node fake_kube_api.mjs REPO_ROOT
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Ajv from "ajv";
import { Lease } from "kubernetes-models/coordination.k8s.io/v1";
import { Pod } from "kubernetes-models/v1";

const ROOT = process.argv[2] ?? ".";
const vpaSchema = JSON.parse(
  fs.readFileSync(path.join(ROOT, "tests/fixtures/vpa/verticalpodautoscaler-v1.schema.json"), "utf8"),
);
// The CRD's schema is OpenAPI v3 structural schema: Kubernetes' own keywords are not JSON Schema.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addFormat("int32", true);
ajv.addFormat("int64", true);
const validateVpa = ajv.compile(vpaSchema);

let version = 100;
const next = () => String(++version);
const log = [];
const errors = [];
const faults = { resize409: "cart-a", resize429: "cart-b", vpa500: true, watch410: true, podPatch: null };
const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
const capacity = { "cart-a": 8, "cart-b": 8, "cart-c": 0.05 }; // cores the node can give

function pod(name) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop", uid: `uid-${name}`, labels: { app: "cart" }, resourceVersion: next() },
    spec: {
      containers: [
        { name: "cart", image: "cart:1", resources: { requests: { cpu: "500m" }, limits: { cpu: "500m" } },
          resizePolicy: [{ resourceName: "cpu", restartPolicy: "NotRequired" }] },
        { name: "sidecar", image: "proxy:1" },
      ],
    },
    status: { phase: "Running", conditions: [] },
  };
}
const pods = new Map(["cart-a", "cart-b", "cart-c"].map((n) => [n, pod(n)]));
// cart-c asked for 1 core earlier and its node could not give it.
Object.assign(pods.get("cart-c").spec.containers[0].resources, { requests: { cpu: "1" }, limits: { cpu: "1" } });
pods.get("cart-c").status.conditions = [
  { type: "PodResizePending", status: "True", reason: "Infeasible", message: "Node didn't have enough capacity: cpu" },
];
pods.set("other-x", { ...pod("other-x"), metadata: { ...pod("other-x").metadata, labels: { app: "other" } } });

function vpa(name, recommenders) {
  const o = {
    apiVersion: "autoscaling.k8s.io/v1",
    kind: "VerticalPodAutoscaler",
    metadata: { name, namespace: "shop", resourceVersion: next() },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      updatePolicy: { updateMode: "InPlaceOrRecreate" },
      resourcePolicy: { containerPolicies: [
        { containerName: "cart", minAllowed: { cpu: "100m" }, maxAllowed: { cpu: "2" }, controlledResources: ["cpu"] },
        { containerName: "*", mode: "Off" },
      ] },
    },
  };
  if (recommenders) o.spec.recommenders = recommenders.map((n) => ({ name: n }));
  return o;
}
const vpas = new Map([
  ["shop/cart", vpa("cart", ["queuelens"])],
  ["shop/default-one", vpa("default-one", null)],
]);
const leases = new Map();
const watchers = new Set();

function check(what, fn) {
  try {
    fn();
  } catch (e) {
    errors.push(`${what}: ${e.message ?? e}`);
    return false;
  }
  return true;
}

function status(res, code, reason, message, headers = {}) {
  res.writeHead(code, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }));
}

function send(res, code, obj) {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(obj));
}

function mergePatch(target, patch) { // RFC 7386
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function cores(q) {
  const m = String(q).match(/^([0-9.]+)(m?)$/);
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
}

function broadcast(type, o) {
  for (const w of watchers) w.write(JSON.stringify({ type, object: o }) + "\n");
}

function resize(res, p, body) {
  // The resize subresource takes only containers' resources (and resizePolicy).
  const ok = check("pods/resize body", () => {
    const keys = Object.keys(body);
    if (keys.length !== 1 || keys[0] !== "spec") throw new Error(`top-level keys ${keys}`);
    if (Object.keys(body.spec).join() !== "containers") throw new Error("spec must hold containers only");
    for (const c of body.spec.containers) {
      for (const k of Object.keys(c)) {
        if (!["name", "resources", "resizePolicy"].includes(k)) throw new Error(`container field ${k}`);
      }
      if (!p.spec.containers.some((x) => x.name === c.name)) throw new Error(`no container ${c.name}`);
    }
  });
  if (!ok) return status(res, 422, "Invalid", "resize may change resources only");
  const updated = structuredClone(p);
  for (const c of body.spec.containers) {
    const target = updated.spec.containers.find((x) => x.name === c.name);
    target.resources = mergePatch(target.resources ?? {}, c.resources);
  }
  if (!check(`Pod ${p.metadata.name} after resize`, () => new Pod(updated).validate())) {
    return status(res, 422, "Invalid", "invalid pod");
  }
  const want = cores(updated.spec.containers[0].resources.limits?.cpu ?? updated.spec.containers[0].resources.requests.cpu);
  updated.status.conditions = want > capacity[p.metadata.name]
    ? [{ type: "PodResizePending", status: "True", reason: "Infeasible", message: "Node didn't have enough capacity: cpu" }]
    : [{ type: "PodResizeInProgress", status: "True" }];
  updated.metadata.resourceVersion = next();
  pods.set(p.metadata.name, updated);
  send(res, 200, updated);
}

// A PATCH of the pod itself, as the recommender sends for the deletion cost: metadata.annotations
// only, each value a string (null deletes), the deletion cost an int32 in decimal.
function podMetadata(res, p, body, contentType) {
  if (!["application/merge-patch+json", "application/strategic-merge-patch+json"].includes(contentType)) {
    errors.push(`pod patch content type ${contentType}`);
    return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format: ${contentType}`);
  }
  const ok = check("pod metadata patch body", () => {
    if (Object.keys(body ?? {}).join() !== "metadata") throw new Error(`top-level keys ${Object.keys(body ?? {})}`);
    if (Object.keys(body.metadata).join() !== "annotations") throw new Error(`metadata keys ${Object.keys(body.metadata)}`);
    for (const [k, v] of Object.entries(body.metadata.annotations)) {
      if (v !== null && typeof v !== "string") throw new Error(`annotation ${k} is not a string`);
      if (k === DELETION_COST && v !== null) {
        const n = Number(v);
        if (!/^-?\d+$/.test(v) || n < -2147483648 || n > 2147483647) throw new Error(`${k} ${v} is not an int32`);
      }
    }
  });
  if (!ok) return status(res, 422, "Invalid", "only annotations may be patched here");
  if (faults.podPatch) {
    return status(res, faults.podPatch, "Forbidden", `pods "${p.metadata.name}" is forbidden: cannot patch resource "pods"`);
  }
  const updated = mergePatch(p, body);
  if (!check(`Pod ${p.metadata.name} after patch`, () => new Pod(updated).validate())) {
    return status(res, 422, "Invalid", "invalid pod");
  }
  updated.metadata.resourceVersion = next();
  pods.set(p.metadata.name, updated);
  send(res, 200, updated);
}

function vpaStatus(res, key, body) {
  const cur = vpas.get(key);
  if (!cur) return status(res, 404, "NotFound", `verticalpodautoscalers ${key} not found`);
  if (!check("VPA status body", () => {
    if (Object.keys(body).join() !== "status") throw new Error(`status subresource body has ${Object.keys(body)}`);
  })) return status(res, 422, "Invalid", "status only");
  const updated = mergePatch(cur, body);
  if (!check(`VerticalPodAutoscaler ${key}`, () => {
    if (!validateVpa(updated)) throw new Error(ajv.errorsText(validateVpa.errors));
    // What VPA's updater relies on: lowerBound ≤ target ≤ upperBound, each within the container
    // policy's minAllowed/maxAllowed (uncappedTarget is not capped).
    for (const r of updated.status?.recommendation?.containerRecommendations ?? []) {
      const [lo, t, hi] = [r.lowerBound, r.target, r.upperBound].map((q) => cores(q?.cpu));
      if (!(lo <= t && t <= hi)) throw new Error(`${r.containerName}: bounds ${lo} ${t} ${hi} out of order`);
      const pol = updated.spec.resourcePolicy?.containerPolicies?.find((c) => c.containerName === r.containerName);
      const min = cores(pol?.minAllowed?.cpu), max = cores(pol?.maxAllowed?.cpu);
      if (lo < min || hi > max) throw new Error(`${r.containerName}: bounds outside [${min}, ${max}]`);
    }
  })) return status(res, 422, "Invalid", "schema");
  if (faults.vpa500) {
    faults.vpa500 = false;
    return status(res, 500, "InternalError", "etcd timeout");
  }
  updated.metadata = { ...cur.metadata, resourceVersion: next() };
  vpas.set(key, updated);
  broadcast("MODIFIED", updated);
  send(res, 200, updated);
}

function leaseWrite(res, method, ns, name, body) {
  if (!check("Lease body", () => new Lease(body).validate())) return status(res, 422, "Invalid", "lease");
  const key = `${ns}/${body.metadata?.name}`;
  if (method === "POST") {
    if (leases.has(key)) return status(res, 409, "AlreadyExists", `leases ${key} already exists`);
  } else {
    if (name !== body.metadata.name) return status(res, 400, "BadRequest", "name mismatch");
    const cur = leases.get(key);
    if (!cur) return status(res, 404, "NotFound", "lease");
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      return status(res, 409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
    }
  }
  const stored = structuredClone(body);
  stored.metadata.resourceVersion = next();
  leases.set(key, stored);
  send(res, method === "POST" ? 201 : 200, stored);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  let raw = "";
  req.on("data", (d) => (raw += d));
  req.on("end", () => {
    const entry = { t: Date.now() / 1000, method: req.method, path: url.pathname, query: url.search,
      auth: req.headers.authorization ?? "", contentType: req.headers["content-type"] ?? "", body: raw };
    if (url.pathname.startsWith("/_test/")) {
      if (url.pathname === "/_test/log") return send(res, 200, { log, errors, pods: [...pods.values()], vpas: [...vpas.values()], leases: [...leases.values()] });
      if (url.pathname === "/_test/vpa" && req.method === "POST") {
        const o = vpa(JSON.parse(raw).name, ["queuelens"]);
        vpas.set(`shop/${o.metadata.name}`, o);
        broadcast("ADDED", o);
        return send(res, 200, o);
      }
      if (url.pathname === "/_test/fault" && req.method === "POST") {
        faults.podPatch = JSON.parse(raw).podPatch ?? null;
        return send(res, 200, faults);
      }
      return status(res, 404, "NotFound", "no such test endpoint");
    }
    log.push(entry);
    let body = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { errors.push(`${req.method} ${url.pathname}: body is not JSON`); return status(res, 400, "BadRequest", "json"); }
    }
    const m = (re) => url.pathname.match(re);
    let g;
    if (req.method === "GET" && (g = m(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/))) {
      const [k, v] = (url.searchParams.get("labelSelector") ?? "").split("=");
      const items = [...pods.values()].filter((p) => p.metadata.namespace === g[1] && (!k || p.metadata.labels[k] === v));
      return send(res, 200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(version) }, items });
    }
    if ((g = m(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/resize)?$/))) {
      const p = pods.get(g[2]);
      if (!p) return status(res, 404, "NotFound", `pods "${g[2]}" not found`);
      if (req.method === "GET" && !g[3]) return send(res, 200, p);
      if (req.method === "PATCH" && g[3]) {
        if (entry.contentType !== "application/strategic-merge-patch+json") errors.push(`resize content type ${entry.contentType}`);
        if (faults.resize409 === g[2]) {
          faults.resize409 = null;
          p.metadata.resourceVersion = next();
          return status(res, 409, "Conflict", "Operation cannot be fulfilled on pods: the object has been modified");
        }
        if (faults.resize429 === g[2]) {
          faults.resize429 = null;
          return status(res, 429, "TooManyRequests", "too many requests", { "Retry-After": "1" });
        }
        return resize(res, p, body);
      }
      if (req.method === "PATCH" && !g[3]) return podMetadata(res, p, body, entry.contentType);
    }
    if (req.method === "GET" && url.pathname === "/apis/autoscaling.k8s.io/v1/verticalpodautoscalers") {
      if (url.searchParams.get("watch") !== "1") {
        return send(res, 200, { kind: "VerticalPodAutoscalerList", apiVersion: "autoscaling.k8s.io/v1", metadata: { resourceVersion: String(version) }, items: [...vpas.values()] });
      }
      res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
      if (faults.watch410) {
        faults.watch410 = false;
        res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "too old resource version", reason: "Expired", code: 410 } }) + "\n");
        return;
      }
      watchers.add(res);
      const timeout = Math.min(Number(url.searchParams.get("timeoutSeconds") ?? 60), 60);
      const timer = setTimeout(() => res.end(), timeout * 1000);
      res.on("close", () => { clearTimeout(timer); watchers.delete(res); });
      return;
    }
    if (req.method === "PATCH" && (g = m(/^\/apis\/autoscaling\.k8s\.io\/v1\/namespaces\/([^/]+)\/verticalpodautoscalers\/([^/]+)\/status$/))) {
      if (entry.contentType !== "application/merge-patch+json") errors.push(`VPA status content type ${entry.contentType}`);
      return vpaStatus(res, `${g[1]}/${g[2]}`, body);
    }
    if ((g = m(/^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/))) {
      if (req.method === "GET" && g[2]) {
        const l = leases.get(`${g[1]}/${g[2]}`);
        return l ? send(res, 200, l) : status(res, 404, "NotFound", `leases "${g[2]}" not found`);
      }
      if (req.method === "POST" && !g[2]) return leaseWrite(res, "POST", g[1], null, body);
      if (req.method === "PUT" && g[2]) return leaseWrite(res, "PUT", g[1], g[2], body);
    }
    errors.push(`unexpected ${req.method} ${url.pathname}`);
    status(res, 404, "NotFound", "not implemented by the fake");
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on port ${server.address().port}`));
process.on("SIGTERM", () => { for (const w of watchers) w.destroy(); server.close(() => process.exit(0)); });
