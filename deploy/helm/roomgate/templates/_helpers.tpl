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
{{- /* The config file as the ConfigMap holds it: configFile verbatim when
given (helm install --set-file configFile=config.yaml), so every file:line
roomgate reports is a line of the file the admin checked; else config
rendered from values, whose keys toYaml sorts and whose comments it drops. */ -}}
{{- define "roomgate.configText" -}}
{{- if .Values.configFile -}}
{{- .Values.configFile -}}
{{- else -}}
{{- toYaml .Values.config -}}
{{- end -}}
{{- end }}
{{- /* The environment variables the config file's values name (${VAR}),
sorted; a ${VAR} in a comment is none (read through fromYaml). */ -}}
{{- define "roomgate.configVars" -}}
{{- $vars := list -}}
{{- range regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" (toYaml (fromYaml (include "roomgate.configText" .))) -1 -}}
{{- $vars = append $vars (trimSuffix "}" (trimPrefix "${" .)) -}}
{{- end -}}
{{- $vars | uniq | sortAlpha | join "," -}}
{{- end }}
