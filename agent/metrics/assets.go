package metrics

import _ "embed"

// AlertRules is tally-alerts.yml: Prometheus alert rules for tally agents,
// embedded so the binary can print or install them.
//
//go:embed tally-alerts.yml
var AlertRules []byte

// Dashboard is grafana-dashboard.json: a Grafana dashboard for tally agents
// with a datasource variable, ready to import.
//
//go:embed grafana-dashboard.json
var Dashboard []byte
