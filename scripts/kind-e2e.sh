#!/usr/bin/env bash
# End to end on a real cluster, for machines with Docker, kind, kubectl and helm (CI runners,
# laptops): builds the image, creates a kind cluster, loads the image, lints and installs the chart,
# runs Redis, Postgres and a webhook receiver in the cluster, applies the example sink and policy,
# waits for the AuditPolicy to be Ready, emits events and checks the AuditSink counts their delivery.
#
#   scripts/kind-e2e.sh            # KEEP=1 keeps the cluster afterwards; CLUSTER=, IMAGE= override names
set -euo pipefail

CLUSTER=${CLUSTER:-ledgerhub-e2e}
IMAGE=${IMAGE:-ledgerhub:e2e}
SYSTEM_NS=ledgerhub-system
NS=ledgerhub
EVENTS=${EVENTS:-20}
KEEP=${KEEP:-0}

need() { command -v "$1" >/dev/null 2>&1 || { echo "kind-e2e: $1 is required" >&2; exit 2; }; }
for tool in docker kind kubectl helm openssl; do need "$tool"; done
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "kind-e2e: failed; state for the post-mortem:" >&2
    kubectl get auditpolicies,auditsinks,deployments,pods -A -o wide >&2 || true
    kubectl -n "$SYSTEM_NS" logs deploy/ledgerhub-operator --tail=100 >&2 || true
  fi
  if [ "$KEEP" != 1 ]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
  exit "$status"
}
trap cleanup EXIT

step "image $IMAGE"
docker build -t "$IMAGE" .

step "cluster $CLUSTER"
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 180s
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "chart: lint, server-side dry run, install"
helm lint charts/ledgerhub --strict
helm template ledgerhub charts/ledgerhub -n "$SYSTEM_NS" >/dev/null
kubectl create namespace "$SYSTEM_NS" --dry-run=client -o yaml | kubectl apply -f -
helm template ledgerhub charts/ledgerhub -n "$SYSTEM_NS" --set crds.install=true \
  | kubectl apply --dry-run=server -f - >/dev/null
helm upgrade --install ledgerhub charts/ledgerhub -n "$SYSTEM_NS" \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set podDisruptionBudget.enabled=true --set networkPolicy.enabled=false --wait --timeout 180s
kubectl get crd auditpolicies.ledgerhub.io auditsinks.ledgerhub.io

step "the CRDs refuse bad input"
if kubectl apply -n default -f - 2>/dev/null <<'YAML'
apiVersion: ledgerhub.io/v1alpha1
kind: AuditPolicy
metadata: { name: bad }
spec:
  mode: development
  ledger: { redisUrl: { name: x, key: y }, postgresUrl: { name: x, key: y } }
  retention: { days: 0, schedule: "every day" }
YAML
then echo "an invalid AuditPolicy was accepted" >&2; exit 1; fi

step "Redis, Postgres and a webhook receiver in $NS"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n "$NS" -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: { name: redis }
spec:
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis } }
    spec: { containers: [{ name: redis, image: redis:7-alpine, ports: [{ containerPort: 6379 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: redis }
spec: { selector: { app: redis }, ports: [{ port: 6379 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: postgres }
spec:
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec:
      containers:
        - name: postgres
          image: postgres:16-alpine
          env: [{ name: POSTGRES_HOST_AUTH_METHOD, value: trust }, { name: POSTGRES_DB, value: ledgerhub }]
          ports: [{ containerPort: 5432 }]
---
apiVersion: v1
kind: Service
metadata: { name: postgres }
spec: { selector: { app: postgres }, ports: [{ port: 5432 }] }
---
# counts webhook deliveries (events per batch) and answers 204
apiVersion: apps/v1
kind: Deployment
metadata: { name: hooks }
spec:
  selector: { matchLabels: { app: hooks } }
  template:
    metadata: { labels: { app: hooks } }
    spec:
      containers:
        - name: hooks
          image: $IMAGE
          imagePullPolicy: Never
          command: [node, -e]
          args:
            - |
              let events = 0;
              require('node:http').createServer((req, res) => {
                let body = '';
                req.on('data', (c) => (body += c));
                req.on('end', () => {
                  if (req.method === 'POST') {
                    try { const b = JSON.parse(body); events += (b.events ?? b.data ?? [b]).length; } catch {}
                    res.writeHead(204).end();
                  } else res.writeHead(200, { 'content-type': 'text/plain' }).end(String(events));
                });
              }).listen(8080);
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: hooks }
spec: { selector: { app: hooks }, ports: [{ port: 8080 }] }
YAML
kubectl -n "$NS" rollout status deploy/redis deploy/postgres deploy/hooks --timeout=180s

step "Secrets, the example sink and policy"
HMAC=$(openssl rand -hex 32)
kubectl -n "$NS" create secret generic ledgerhub-ledger --dry-run=client -o yaml \
  --from-literal=redis-url="redis://redis.$NS.svc:6379" \
  --from-literal=postgres-url="postgres://postgres@postgres.$NS.svc:5432/ledgerhub" \
  --from-literal=hmac-key="$HMAC" | kubectl apply -f -
kubectl -n "$NS" create secret generic siem-webhook --dry-run=client -o yaml \
  --from-literal=signing-secret="whsec_$(openssl rand -base64 32)" | kubectl apply -f -
sed "s#https://hooks.example.com/ledgerhub#http://hooks.$NS.svc:8080/ledgerhub#" examples/auditsink-webhook.yaml \
  | kubectl apply -n "$NS" -f -
kubectl apply -n "$NS" -f examples/auditpolicy-minimal.yaml

step "the operator runs the policy"
kubectl -n "$NS" wait --for=condition=Ready auditpolicy/audit --timeout=300s
kubectl -n "$NS" get auditpolicies,auditsinks,deployments,cronjobs

step "$EVENTS events from the stream to the webhook"
kubectl -n "$NS" run emitter --rm -i --restart=Never --image="$IMAGE" --image-pull-policy=Never \
  --env="REDIS_URL=redis://redis.$NS.svc:6379" --env="AUDIT_HMAC_KEY=$HMAC" \
  --env="DATABASE_URL=postgres://postgres@postgres.$NS.svc:5432/ledgerhub" \
  -- emit --demo "$EVENTS" --wait 60
for _ in $(seq 1 60); do
  delivered=$(kubectl -n "$NS" get auditsink webhook -o jsonpath='{.status.delivered}' 2>/dev/null || true)
  if [ "${delivered:-0}" -ge "$EVENTS" ]; then break; fi
  sleep 5
done
kubectl -n "$NS" get auditsink webhook -o yaml | sed -n '/^status:/,$p'
[ "${delivered:-0}" -ge "$EVENTS" ] || { echo "the sink reports ${delivered:-0} of $EVENTS deliveries" >&2; exit 1; }
received=$(kubectl -n "$NS" run probe --rm -i --restart=Never --image="$IMAGE" --image-pull-policy=Never \
  --command -- node -e "fetch('http://hooks.$NS.svc:8080/').then(r => r.text()).then(console.log)" | tail -1)
echo "the receiver counted $received event(s)"
[ "${received:-0}" -ge "$EVENTS" ] || exit 1

step "uninstall keeps the CRDs and the ledgers' resources"
helm uninstall ledgerhub -n "$SYSTEM_NS" --wait
kubectl get crd auditpolicies.ledgerhub.io >/dev/null
echo "kind-e2e: OK"
