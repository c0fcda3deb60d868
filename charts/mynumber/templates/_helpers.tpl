{{/*
Shared helpers. "mynumber.service" renders everything one platform service needs from its values block
(`.Values.services.<name>`): ServiceAccount, Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler,
its NetworkPolicies, and its CloudNativePG clusters (own primary + standby of the peer region's primary).
A new service is one values block plus one template file that includes it.

Two optional shapes of a block:
- `partOf: <service>`: a second workload of that service (e.g. jpki-responder of jpki). It runs the owner's image
  against the owner's database (the owner renders the clusters; their policy admits this workload too), with the
  owner's settings prefix (envPrefix: the image's), HSM and public URL; everything else (args, replicas, secrets,
  resources) is its own.
- `httpOnly: true`: no gRPC at all (no gRPC/health ports, no mTLS files); `httpPort` serves and `healthPath` on it
  answers the HTTP readiness and liveness probes.
`metrics: true`: the service serves /metrics on `metrics.port` (a `metrics` port on the container and the
Service), reachable by the scraper only, with a ServiceMonitor when `metrics.serviceMonitor.enabled`.
`persistentVolumes` (name -> claim) gives a service writable storage that outlives its pods (the root file system
is read-only): one PersistentVolumeClaim each, mounted at `mountPath`, with `<PREFIX>_<setting>` pointing at it.
*/}}

{{- define "mynumber.labels" -}}
app.kubernetes.io/part-of: mynumber
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
mynumber.jp/region: {{ .root.Values.region.name | quote }}
{{- end -}}

{{- define "mynumber.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The PostgreSQL cluster (CNPG) that holds a service's own database in a region. */}}
{{- define "mynumber.pgName" -}}
pg-{{ .name }}-{{ .region }}
{{- end -}}

{{/*
The PostgreSQL cluster a service's pods use: its own region's primary, or (a failover release, docs/deploy.md)
the promoted standby named by postgres.useCluster, e.g. "pg-{service}-east-standby".
*/}}
{{- define "mynumber.dbCluster" -}}
{{- if .root.Values.postgres.useCluster -}}
{{ .root.Values.postgres.useCluster | replace "{service}" .name | replace "{region}" .root.Values.region.name }}
{{- else -}}
{{ include "mynumber.pgName" (dict "name" .name "region" .root.Values.region.name) }}
{{- end -}}
{{- end -}}

{{/*
The NATS users and their permissions as JSON (`include` then `fromJson`): the runtime's one table
(mynumber_runtime.nats_identity.platform_users), copied by charts/nats_users.py. Not a values key: a release
cannot widen what a service may publish.
*/}}
{{- define "mynumber.natsUsers" -}}
{{- $table := .Files.Get "files/nats-users.json" | fromJson -}}
{{- required "files/nats-users.json has no users (run charts/nats_users.py)" $table.users | toJson -}}
{{- end -}}

{{/*
A pod's own NATS password Secret, mounted at <secretDir>/nats (one user, never another's):
(dict "root" $ "user" <user>) -> the volume.
*/}}
{{- define "mynumber.natsUserVolume" -}}
- name: nats-user
  secret:
    secretName: {{ .root.Values.nats.auth.secretPrefix }}{{ .user }}
    defaultMode: 0440
    items:
      - {key: {{ .root.Values.nats.auth.secretKey }}, path: password}
{{- end -}}

{{- define "mynumber.image" -}}
{{ printf "%s/mynumber-%s:%s" .root.Values.image.registry .name .root.Values.image.tag }}
{{- end -}}

{{- define "mynumber.service" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values.services $name -}}
{{- $ctx := dict "root" $root "name" $name -}}
{{- $region := required "region.name is required (use values-east.yaml or values-west.yaml)" $root.Values.region.name -}}
{{- $digit := int $root.Values.region.digit -}}
{{- if or (lt $digit 1) (gt $digit 9) }}{{ fail "region.digit must be 1-9 (use values-east.yaml or values-west.yaml)" }}{{ end -}}
{{- $secretDir := "/var/run/secrets/mynumber" -}}
{{- $owner := $svc.partOf | default $name -}}
{{- $ownerSvc := index $root.Values.services $owner | default dict -}}
{{- if and $svc.enabled (not $ownerSvc.enabled) }}{{ fail (printf "services.%s.partOf: %s is not an enabled service" $name $owner) }}{{ end -}}
{{- /* The owner's image reads the owner's settings: its prefix, HSM and public URL ($ownerSvc is $svc when no partOf). */ -}}
{{- $p := $ownerSvc.envPrefix -}}
{{- $hsm := $ownerSvc.hsm -}}
{{- $publicBaseUrl := $ownerSvc.publicBaseUrl -}}
{{- /* One volume per Secret, however many settings read files from it. */ -}}
{{- $secrets := list -}}
{{- range $svc.secretFiles }}{{ $secrets = append $secrets .secret }}{{ end -}}
{{- $secrets = uniq $secrets -}}
{{- $grpc := not $svc.httpOnly -}}
{{- $natsUser := $svc.natsUser | default $name -}}
{{- if and $svc.enabled $svc.nats (not (hasKey ((include "mynumber.natsUsers" $root) | fromJson) $natsUser)) }}
{{- fail (printf "services.%s: NATS user %q is not in files/nats-users.json (mynumber_runtime.nats_identity)" $name $natsUser) }}
{{- end -}}
{{- $probe := printf "grpc: {port: %d}" (int $root.Values.healthPort) -}}
{{- if not $grpc }}{{ $probe = printf "httpGet: {path: %s, port: http}" ($svc.healthPath | quote) }}{{ end -}}
{{- if $svc.enabled }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
    {{- include "mynumber.selector" $ctx | nindent 4 }}
# No service talks to the Kubernetes API: no token in the pod.
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
    {{- include "mynumber.selector" $ctx | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  {{- if eq (int $svc.replicas) 1 }}
  # A single writer (e.g. the CA's CRL schedule): never two pods at once during a rollout.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "mynumber.selector" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mynumber.labels" $ctx | nindent 8 }}
        {{- include "mynumber.selector" $ctx | nindent 8 }}
        {{- if $svc.nats }}
        mynumber.jp/nats-client: "true"
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $name }}
          image: {{ include "mynumber.image" (dict "root" $root "name" $owner) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          {{- with $svc.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          ports:
            {{- if $grpc }}
            - {name: grpc, containerPort: {{ $svc.grpcPort }}, protocol: TCP}
            - {name: health, containerPort: {{ $root.Values.healthPort }}, protocol: TCP}
            {{- end }}
            {{- if $svc.httpPort }}
            - {name: http, containerPort: {{ $svc.httpPort }}, protocol: TCP}
            {{- end }}
            {{- if $svc.restPort }}
            - {name: https, containerPort: {{ $svc.restPort }}, protocol: TCP}
            {{- end }}
            {{- if $svc.metrics }}
            - {name: metrics, containerPort: {{ $root.Values.metrics.port }}, protocol: TCP}
            {{- end }}
          env:
            - {name: {{ $p }}_REGION_NAME, value: {{ $region | quote }}}
            - {name: {{ $p }}_REGION_DIGIT, value: {{ $digit | quote }}}
            - {name: {{ $p }}_HOME_PREFECTURES, value: {{ $root.Values.region.homePrefectures | toJson | quote }}}
            {{- if $grpc }}
            - {name: {{ $p }}_GRPC__LISTEN, value: "0.0.0.0:{{ $svc.grpcPort }}"}
            - {name: {{ $p }}_GRPC__HEALTH_LISTEN, value: "0.0.0.0:{{ $root.Values.healthPort }}"}
            - {name: {{ $p }}_GRPC__TLS_CERT_FILE, value: {{ $secretDir }}/tls/tls.crt}
            - {name: {{ $p }}_GRPC__TLS_KEY_FILE, value: {{ $secretDir }}/tls/tls.key}
            - {name: {{ $p }}_GRPC__TLS_CLIENT_CA_FILE, value: {{ $secretDir }}/tls/ca.crt}
            {{- else }}
            # No gRPC in this pod: an empty listen address overrides the image's preset and needs no mTLS files.
            - {name: {{ $p }}_GRPC__LISTEN, value: ""}
            {{- end }}
            {{- if $svc.metrics }}
            # Plain HTTP GET /metrics on the pod's address, for the scraper (the NetworkPolicy admits only it).
            - {name: {{ $p }}_METRICS__LISTEN, value: "0.0.0.0:{{ $root.Values.metrics.port }}"}
            {{- end }}
            {{- if $svc.database }}
            # The URL (with its password) comes from the Secret CNPG writes for the database owner.
            - {name: {{ $p }}_DATABASE__URL_FILE, value: {{ $secretDir }}/db/uri}
            {{- end }}
            {{- if $svc.nats }}
            - {name: {{ $p }}_NATS__URL, value: "nats://nats{{ with $root.Values.hostNamespace }}.{{ . }}.svc{{ end }}:{{ $root.Values.nats.clientPort }}"}
            # Its own NATS user (publishes only its own subjects), password from its own Secret.
            - {name: {{ $p }}_NATS__USER, value: {{ $natsUser | quote }}}
            - {name: {{ $p }}_NATS__PASSWORD_FILE, value: {{ $secretDir }}/nats/password}
            {{- end }}
            {{- range $svc.secretFiles }}
            - {name: {{ $p }}_{{ .setting }}, value: {{ $secretDir }}/{{ .secret }}/{{ .key }}}
            {{- end }}
            {{- if $hsm }}
            - {name: {{ $p }}_HSM__MODULE, value: {{ $hsm.module | quote }}}
            - {name: {{ $p }}_HSM__TOKEN_LABEL, value: {{ $hsm.tokenLabel | quote }}}
            {{- if $hsm.softhsm.enabled }}
            - {name: {{ $p }}_HSM__SOFTHSM_DATA_DIR, value: {{ $hsm.softhsm.mountPath | quote }}}
            {{- end }}
            {{- end }}
            {{- if $svc.httpPort }}
            - {name: {{ $p }}_HTTP__LISTEN_HOST, value: "0.0.0.0"}
            - {name: {{ $p }}_HTTP__LISTEN_PORT, value: {{ $svc.httpPort | quote }}}
            {{- with $publicBaseUrl }}
            - {name: {{ $p }}_HTTP__PUBLIC_BASE_URL, value: {{ . | quote }}}
            {{- end }}
            {{- end }}
            {{- range $svc.persistentVolumes }}
            - {name: {{ $p }}_{{ .setting }}, value: {{ .mountPath | quote }}}
            {{- end }}
            {{- range $k, $v := $svc.env }}
            - {name: {{ $p }}_{{ $k }}, value: {{ $v | quote }}}
            {{- end }}
          # Native gRPC probes against grpc.health.v1, which reports the service's real checks
          # (database reachable, NATS connected, keys loaded, HSM session); an HTTP-only workload's own
          # health endpoint instead (the responder: 503 until its status snapshot is loaded and fresh).
          readinessProbe:
            {{ $probe }}
            periodSeconds: {{ $root.Values.probes.periodSeconds }}
            failureThreshold: {{ $root.Values.probes.failureThreshold }}
          livenessProbe:
            {{ $probe }}
            initialDelaySeconds: {{ $root.Values.probes.initialDelaySeconds }}
            periodSeconds: {{ $root.Values.probes.periodSeconds }}
            failureThreshold: {{ mul 2 $root.Values.probes.failureThreshold }}
          resources:
            {{- required (printf "services.%s.resources is required" $name) $svc.resources | toYaml | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            {{- if $grpc }}
            - {name: tls, mountPath: {{ $secretDir }}/tls, readOnly: true}
            {{- end }}
            {{- if $svc.database }}
            - {name: db, mountPath: {{ $secretDir }}/db, readOnly: true}
            {{- end }}
            {{- if $svc.nats }}
            - {name: nats-user, mountPath: {{ $secretDir }}/nats, readOnly: true}
            {{- end }}
            {{- range $secrets }}
            - {name: {{ printf "s-%s" . | trunc 63 }}, mountPath: {{ $secretDir }}/{{ . }}, readOnly: true}
            {{- end }}
            {{- if and $hsm $hsm.softhsm.enabled }}
            - {name: softhsm, mountPath: {{ $hsm.softhsm.mountPath }}}
            {{- end }}
            {{- range $svc.persistentVolumes }}
            - {name: {{ .claimName }}, mountPath: {{ .mountPath }}}
            {{- end }}
      volumes:
        # The root file system is read-only; scratch space is a size-capped emptyDir.
        - name: tmp
          emptyDir: {sizeLimit: 64Mi}
        {{- if $grpc }}
        - name: tls
          secret:
            secretName: {{ printf "%s%s" $name $root.Values.tls.secretSuffix }}
            defaultMode: 0440
        {{- end }}
        {{- if $svc.database }}
        - name: db
          secret:
            secretName: {{ include "mynumber.dbCluster" (dict "root" $root "name" $owner) }}-app
            defaultMode: 0440
            items:
              - {key: uri, path: uri}
        {{- end }}
        {{- if $svc.nats }}
        {{- include "mynumber.natsUserVolume" (dict "root" $root "user" $natsUser) | nindent 8 }}
        {{- end }}
        {{- range $secrets }}
        - name: {{ printf "s-%s" . | trunc 63 }}
          secret:
            secretName: {{ . }}
            defaultMode: 0440
        {{- end }}
        {{- if and $hsm $hsm.softhsm.enabled }}
        # Dev only: SoftHSM's token directory holds the CA keys, so it outlives the pod.
        - name: softhsm
          persistentVolumeClaim:
            claimName: {{ $hsm.softhsm.claimName }}
        {{- end }}
        {{- range $svc.persistentVolumes }}
        - name: {{ .claimName }}
          persistentVolumeClaim:
            claimName: {{ .claimName }}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
    {{- include "mynumber.selector" $ctx | nindent 4 }}
spec:
  selector:
    {{- include "mynumber.selector" $ctx | nindent 4 }}
  ports:
    {{- if $grpc }}
    - {name: grpc, port: {{ $svc.grpcPort }}, targetPort: grpc, protocol: TCP}
    {{- end }}
    {{- if $svc.httpPort }}
    - {name: http, port: {{ $svc.httpPort }}, targetPort: http, protocol: TCP}
    {{- end }}
    {{- if $svc.restPort }}
    - {name: https, port: {{ $svc.restPort }}, targetPort: https, protocol: TCP}
    {{- end }}
    {{- if $svc.metrics }}
    - {name: metrics, port: {{ $root.Values.metrics.port }}, targetPort: metrics, protocol: TCP}
    {{- end }}
{{- if and $svc.metrics $root.Values.metrics.serviceMonitor.enabled }}
{{- $sm := $root.Values.metrics.serviceMonitor }}
---
# Prometheus Operator: scrape every pod behind this Service on its metrics port (docs/operations.md).
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
    {{- include "mynumber.selector" $ctx | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "mynumber.selector" $ctx | nindent 6 }}
  namespaceSelector:
    matchNames: [{{ $root.Release.Namespace | quote }}]
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ $sm.interval }}
      scrapeTimeout: {{ $sm.scrapeTimeout }}
{{- end }}
{{- if or (gt (int $svc.replicas) 1) $svc.autoscaling.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      {{- include "mynumber.selector" $ctx | nindent 6 }}
{{- end }}
{{- if $svc.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $svc.autoscaling.minReplicas }}
  maxReplicas: {{ $svc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $svc.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if and $svc.hsm $svc.hsm.softhsm.enabled }}
---
# Dev only: SoftHSM's token directory (the CA keys) on a volume that outlives the pod.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ $svc.hsm.softhsm.claimName }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {{ $svc.hsm.softhsm.size }}
{{- end }}
{{- range $svc.persistentVolumes }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .claimName }}
  labels:
    {{- include "mynumber.labels" $ctx | nindent 4 }}
  annotations:
    # Files not yet collected must survive `helm uninstall`; delete the claim by hand once it is drained.
    helm.sh/resource-policy: keep
spec:
  accessModes: [{{ .accessMode | default "ReadWriteOnce" }}]
  {{- with .storageClassName }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .size }}
{{- end }}
{{ include "mynumber.networkPolicies" $ctx }}
{{- if and $svc.database $root.Values.postgres.create (not $svc.partOf) }}
{{ include "mynumber.postgres" $ctx }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
One allow-policy per service (the namespace default-denies everything, templates/networkpolicy.yaml):
ingress on the gRPC port only from the listed callers, the metrics port only from the scraper, public ports from
anywhere, egress only to the
service's own PostgreSQL, to NATS, and to the services it calls.
*/}}
{{- define "mynumber.networkPolicies" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values.services $name -}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "mynumber.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mynumber.selector" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- if $svc.callers }}
    - from:
        {{- range $svc.callers }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
              app.kubernetes.io/instance: {{ $root.Release.Name }}
        {{- end }}
      ports:
        - {port: {{ $svc.grpcPort }}, protocol: TCP}
    {{- end }}
    {{- if $svc.restPort }}
    # The one door: municipal systems and store terminals (mTLS client certificates) from anywhere.
    - ports:
        - {port: {{ $svc.restPort }}, protocol: TCP}
    {{- end }}
    {{- if $svc.httpPort }}
    # CRL and OCSP are fetched by registered verifiers from outside the platform.
    - ports:
        - {port: {{ $svc.httpPort }}, protocol: TCP}
    {{- end }}
    {{- if $svc.metrics }}
    # The metrics scraper (Prometheus), on the metrics port only.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $root.Values.metrics.scraper.namespace }}
          podSelector:
            matchLabels:
              {{- toYaml $root.Values.metrics.scraper.podLabels | nindent 14 }}
      ports:
        - {port: {{ $root.Values.metrics.port }}, protocol: TCP}
    {{- end }}
    {{- if not (or $svc.callers $svc.restPort $svc.httpPort $svc.metrics) }} []{{ end }}
  egress:
    {{- if $svc.database }}
    - to:
        - podSelector:
            matchLabels:
              cnpg.io/cluster: {{ include "mynumber.dbCluster" (dict "root" $root "name" ($svc.partOf | default $name)) }}
          {{- with $root.Values.hostNamespace }}
          namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
          {{- end }}
      ports:
        - {port: 5432, protocol: TCP}
    {{- end }}
    {{- if $svc.nats }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: nats
          {{- with $root.Values.hostNamespace }}
          namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
          {{- end }}
      ports:
        - {port: {{ $root.Values.nats.clientPort }}, protocol: TCP}
    {{- end }}
    {{- range $svc.calls }}
    {{- $callee := index $root.Values.services . | default dict }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
              app.kubernetes.io/instance: {{ $root.Release.Name }}
      ports:
        - {port: {{ $callee.grpcPort | default 50051 }}, protocol: TCP}
    {{- end }}
    {{- if not (or $svc.database $svc.nats $svc.calls) }} []{{ end }}
{{- end -}}

{{/*
A service's databases through CloudNativePG: its own primary cluster in this region (one database, owned by the
service) and a replica cluster that streams the peer region's primary, ready to be promoted on failover.
*/}}
{{- define "mynumber.postgres" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $pg := $root.Values.postgres -}}
{{- $region := $root.Values.region.name -}}
{{- $db := $name | replace "-" "_" -}}
{{- $own := include "mynumber.pgName" (dict "name" $name "region" $region) -}}
{{- $peerName := include "mynumber.pgName" (dict "name" $name "region" $pg.peer.name) -}}
{{- /* The workloads that use this database: the service and its own other workloads (partOf). */ -}}
{{- $users := list $name -}}
{{- range $part, $v := $root.Values.services }}
{{- if and $v.enabled (eq ($v.partOf | default "") $name) }}{{ $users = append $users $part }}{{ end }}
{{- end -}}
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: {{ $own }}
  labels:
    {{- include "mynumber.labels" . | nindent 4 }}
    mynumber.jp/service: {{ $name }}
spec:
  instances: {{ $pg.instances }}
  imageName: {{ $pg.imageName }}
  primaryUpdateStrategy: unsupervised
  # A commit is acknowledged once a second instance has it: a lost pod loses no committed number.
  minSyncReplicas: 1
  maxSyncReplicas: 1
  bootstrap:
    initdb:
      database: {{ $db }}
      owner: {{ $db }}
  certificates:
    # Shared by both regions, so the peer's standby can authenticate as streaming_replica with its certificate.
    clientCASecret: {{ $pg.clientCASecret }}
    replicationTLSSecret: {{ $pg.replicationTLSSecret }}
  {{- include "mynumber.pgStorage" $pg | nindent 2 }}
{{- if $pg.peer.name }}
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: {{ $peerName }}-standby
  labels:
    {{- include "mynumber.labels" . | nindent 4 }}
    mynumber.jp/service: {{ $name }}
    mynumber.jp/standby-of: {{ $pg.peer.name }}
spec:
  instances: {{ $pg.standbyInstances }}
  imageName: {{ $pg.imageName }}
  # A replica cluster: read-only, follows the peer region's primary until an SRE promotes it (docs/deploy.md).
  replica:
    enabled: true
    source: {{ $peerName }}
  bootstrap:
    pg_basebackup:
      source: {{ $peerName }}
  externalClusters:
    - name: {{ $peerName }}
      connectionParameters:
        host: {{ $pg.peer.hostTemplate | replace "{service}" $name | quote }}
        user: streaming_replica
        dbname: postgres
        sslmode: verify-full
      sslKey: {name: {{ $pg.peer.replicationSecret }}, key: tls.key}
      sslCert: {name: {{ $pg.peer.replicationSecret }}, key: tls.crt}
      sslRootCert: {name: {{ $pg.peer.replicationSecret }}, key: ca.crt}
  {{- include "mynumber.pgStorage" $pg | nindent 2 }}
{{- end }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: pg-{{ $name }}
  labels:
    {{- include "mynumber.labels" . | nindent 4 }}
spec:
  podSelector:
    matchExpressions:
      - key: cnpg.io/cluster
        operator: In
        values: [{{ $own }}{{ if $pg.peer.name }}, {{ $peerName }}-standby{{ end }}]
  policyTypes: [Ingress, Egress]
  ingress:
    # The owning service only (and its own other workloads, partOf); no other service reads these tables.
    - from:
        {{- range $users }}
        - podSelector:
            matchLabels:
              {{- include "mynumber.selector" (dict "root" $root "name" .) | nindent 14 }}
        {{- end }}
      ports:
        - {port: 5432, protocol: TCP}
    {{- with $root.Values.peerFailoverNamespace }}
    {{- $ns := . }}
    # After a promotion, the peer region's services run in this namespace against the promoted standby.
    - from:
        {{- range $users }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $ns }}
          podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
        {{- end }}
      ports:
        - {port: 5432, protocol: TCP}
    {{- end }}
    # Instances of the same cluster replicate to each other.
    - from:
        - podSelector:
            matchLabels:
              cnpg.io/cluster: {{ $own }}
      ports:
        - {port: 5432, protocol: TCP}
    # The CNPG operator: instance manager status and management connections.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $pg.operatorNamespace }}
      ports:
        - {port: 8000, protocol: TCP}
        - {port: 5432, protocol: TCP}
    {{- with $pg.peerCIDRs }}
    # The peer region's standby streams WAL from this region's primary.
    {{- include "mynumber.cidrRule" (dict "direction" "from" "cidrs" . "port" 5432) | nindent 4 }}
    {{- end }}
  egress:
    - to:
        - podSelector:
            matchLabels:
              cnpg.io/cluster: {{ $own }}
      ports:
        - {port: 5432, protocol: TCP}
    # The instance manager watches its Cluster through the Kubernetes API.
    - to:
        {{- range $pg.kubeApiCIDRs }}
        - ipBlock: {cidr: {{ . }}}
        {{- end }}
      ports:
        - {port: 443, protocol: TCP}
        - {port: 6443, protocol: TCP}
    {{- with $pg.peerCIDRs }}
    {{- include "mynumber.cidrRule" (dict "direction" "to" "cidrs" . "port" 5432) | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* A CNPG cluster's storage and resources (the primary and the standby are sized alike: a standby gets promoted). */}}
{{- define "mynumber.pgStorage" -}}
storage:
  size: {{ .storage }}
  {{- with .storageClassName }}
  storageClass: {{ . }}
  {{- end }}
resources:
  {{- toYaml .resources | nindent 2 }}
{{- end -}}

{{/* A NetworkPolicy rule to or from (direction) a list of CIDRs on one TCP port: the peer region's addresses. */}}
{{- define "mynumber.cidrRule" -}}
- {{ .direction }}:
    {{- range .cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
  ports:
    - {port: {{ .port }}, protocol: TCP}
{{- end -}}
