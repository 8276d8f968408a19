{{- define "roomgate.labels" -}}
app.kubernetes.io/name: roomgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: roomgate
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
{{- define "roomgate.selector" -}}
app.kubernetes.io/name: roomgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "roomgate.secretName" -}}
{{- default (printf "%s-secrets" .Release.Name) .Values.existingSecret -}}
{{- end }}
