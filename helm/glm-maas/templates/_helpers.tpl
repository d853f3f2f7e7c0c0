{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "glm-maas.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart> unless the release already contains the chart name. */}}
{{- define "glm-maas.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's resources: <fullname>-<component>. Call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "glm-maas.componentName" -}}
{{- printf "%s-%s" (include "glm-maas.fullname" .ctx | trunc 45 | trimSuffix "-") .component }}
{{- end }}

{{- define "glm-maas.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Minimal, immutable selector labels. Call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "glm-maas.selectorLabels" -}}
app.kubernetes.io/name: {{ include "glm-maas.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Recommended labels. Call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "glm-maas.labels" -}}
helm.sh/chart: {{ include "glm-maas.chart" .ctx }}
{{ include "glm-maas.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: glm-maas
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Image reference. Call with (dict "ctx" $ "repository" "gateway"). */}}
{{- define "glm-maas.image" -}}
{{- $tag := default .ctx.Chart.AppVersion .ctx.Values.image.tag -}}
{{- if .ctx.Values.image.registry -}}
{{- printf "%s/%s:%s" .ctx.Values.image.registry .repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .repository $tag -}}
{{- end -}}
{{- end }}

{{- define "glm-maas.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "glm-maas.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret holding admin tokens and the master key. */}}
{{- define "glm-maas.secretName" -}}
{{- default (include "glm-maas.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Secret holding the database password. */}}
{{- define "glm-maas.dbSecretName" -}}
{{- default (printf "%s-db" (include "glm-maas.fullname" .)) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{/* Pod-level settings shared by every component. */}}
{{- define "glm-maas.podCommon" -}}
serviceAccountName: {{ include "glm-maas.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Environment shared by every service: JVM options and Kafka. */}}
{{- define "glm-maas.commonEnv" -}}
- name: JAVA_TOOL_OPTIONS
  value: {{ .Values.javaToolOptions | quote }}
- name: SPRING_KAFKA_BOOTSTRAPSERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
- name: SPRING_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- /* every internal gRPC call carries a token signed with this; servers refuse calls without */}}
- name: GLM_SERVICEIDENTITY_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "glm-maas.secretName" . }}
      key: {{ .Values.secrets.serviceIdentitySecretKey }}
{{- if hasPrefix "SASL" .Values.kafka.securityProtocol }}
{{- if not .Values.kafka.existingSecret }}
{{- fail "kafka.existingSecret is required when kafka.securityProtocol is SASL_*" }}
{{- end }}
- name: SPRING_KAFKA_PROPERTIES_SASL_MECHANISM
  value: {{ required "kafka.saslMechanism is required for SASL_*" .Values.kafka.saslMechanism | quote }}
- name: SPRING_KAFKA_PROPERTIES_SASL_JAAS_CONFIG
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.existingSecret }}
      key: {{ .Values.kafka.jaasConfigKey }}
{{- end }}
{{- end }}

{{/* Datasource env for a service. Call with (dict "ctx" $ "database" "glm_auth"). */}}
{{- define "glm-maas.datasourceEnv" -}}
{{- $pg := .ctx.Values.postgresql -}}
- name: SPRING_DATASOURCE_URL
  value: {{ printf "jdbc:postgresql://%s:%d/%s?sslmode=%s" $pg.host (int $pg.port) .database $pg.sslMode | quote }}
- name: SPRING_DATASOURCE_USERNAME
  value: {{ $pg.auth.username | quote }}
- name: SPRING_DATASOURCE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "glm-maas.dbSecretName" .ctx }}
      key: {{ $pg.auth.passwordKey }}
{{- end }}

{{/* HTTP probes against Spring Boot's health groups on the named port "http". */}}
{{- define "glm-maas.httpProbes" -}}
readinessProbe:
  httpGet: {path: /actuator/health/readiness, port: http}
  periodSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet: {path: /actuator/health/liveness, port: http}
  periodSeconds: 10
  failureThreshold: 6
{{- end }}

{{/* Volumes every JVM container needs with a read-only root filesystem. */}}
{{- define "glm-maas.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
