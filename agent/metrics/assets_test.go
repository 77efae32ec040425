package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// exported returns every tally_ series name the agent can expose, with the
// _bucket/_sum/_count names of its histograms.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m := newFixed()
	m.ObserveRead("ok", "scanner", time.Microsecond)
	m.ObserveFeedback(time.Millisecond)
	m.ObserveCommit(1, time.Millisecond)
	m.ObserveDelivery("koha", Accepted, 1)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		if !strings.HasPrefix(n, "tally_") {
			continue
		}
		names[n] = true
		if mf.GetType().String() == "HISTOGRAM" {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}

var metricRef = regexp.MustCompile(`\btally_[a-z0-9_]+`)

// checkRefs fails for every tally_ name in expr the agent does not export.
func checkRefs(t *testing.T, where, expr string, names map[string]bool) int {
	t.Helper()
	refs := metricRef.FindAllString(expr, -1)
	for _, r := range refs {
		if !names[r] {
			t.Errorf("%s: %s is not a metric tally exports", where, r)
		}
	}
	return len(refs)
}

func TestAlertRulesUseExportedMetrics(t *testing.T) {
	names := exported(t)
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(AlertRules, &f); err != nil {
		t.Fatalf("tally-alerts.yml: %v", err)
	}
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule %d of group %s lacks alert or expr", n, g.Name)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description annotations are required", r.Alert)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", r.Alert)
			}
			if r.Alert != "TallyAgentDown" && checkRefs(t, r.Alert, r.Expr, names) == 0 {
				t.Errorf("%s: expression uses no tally_ metric", r.Alert)
			}
		}
	}
	if n < 8 {
		t.Errorf("%d alert rules, want at least 8", n)
	}
}

func TestDashboard(t *testing.T) {
	names := exported(t)
	type target struct {
		Expr       string `json:"expr"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	}
	type panel struct {
		Title      string   `json:"title"`
		Type       string   `json:"type"`
		Targets    []target `json:"targets"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	}
	var d struct {
		Title      string  `json:"title"`
		UID        string  `json:"uid"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name, Type string
				Query      any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Error("dashboard needs a title and a uid")
	}
	hasDS := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDS = true
		}
	}
	if !hasDS {
		t.Error("no Prometheus datasource variable named datasource")
	}

	// The panels the district asked for, by the metric each one charts.
	want := map[string]bool{"tally_reads_total": false, "tally_inventory_items_seen": false,
		"tally_device_state": false, "tally_devices": false, "tally_commit_duration_seconds_bucket": false,
		"tally_outbox_rows": false, "tally_outbox_oldest_pending_age_seconds": false}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a query does not use the datasource variable", p.Title)
			}
			checkRefs(t, p.Title, tg.Expr, names)
			for _, r := range metricRef.FindAllString(tg.Expr, -1) {
				if _, ok := want[r]; ok {
					want[r] = true
				}
			}
		}
	}
	for m, ok := range want {
		if !ok {
			t.Errorf("no panel charts %s", m)
		}
	}
}

// The package doc's table must name every metric the package exports.
func TestDocTableListsEveryMetric(t *testing.T) {
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src[:strings.Index(string(src), "package metrics")])
	for n := range exported(t) {
		if strings.HasSuffix(n, "_bucket") || strings.HasSuffix(n, "_sum") || strings.HasSuffix(n, "_count") {
			continue
		}
		if !regexp.MustCompile(`//\s+` + n + `\s`).MatchString(doc) {
			t.Errorf("package doc table lacks %s", n)
		}
	}
}
