package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goccy/go-yaml"
	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
)

// manifestsDir holds the Kubernetes manifests, applied with kubectl apply -k.
const manifestsDir = "kubernetes"

// drainSeconds is how long inlay serve takes to stop after SIGTERM: the
// default drain_delay (5s, /-/ready answering 503 while it still accepts),
// then up to 10s for the requests in flight.
const drainSeconds = 5 + 10

// measuredRSS is Inlay's measured resident memory serving the demo.
const measuredRSS = 64 << 20

// object is one Kubernetes object read from a manifest file.
type object struct {
	file string
	doc  map[string]any
}

func (o object) kind() string       { s, _ := o.doc["kind"].(string); return s }
func (o object) apiVersion() string { s, _ := o.doc["apiVersion"].(string); return s }
func (o object) name() string {
	m, _ := o.doc["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}

// decode converts the object into a typed view of it.
func (o object) decode(t *testing.T, v any) {
	t.Helper()
	data, err := yaml.Marshal(o.doc)
	if err != nil {
		t.Fatalf("%s: re-encoding %s: %v", o.file, o.kind(), err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: decoding %s: %v", o.file, o.kind(), err)
	}
}

// readDocuments returns every YAML document of a file.
func readDocuments(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// kustomization is the part of kustomization.yaml the tests read.
type kustomization struct {
	APIVersion         string   `yaml:"apiVersion"`
	Kind               string   `yaml:"kind"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name    string   `yaml:"name"`
		Files   []string `yaml:"files"`
		Options struct {
			DisableNameSuffixHash bool `yaml:"disableNameSuffixHash"`
		} `yaml:"options"`
	} `yaml:"configMapGenerator"`
	Images []kustImage `yaml:"images"`
}

// kustImage sets the tag of an image in kustomization.yaml.
type kustImage struct {
	Name   string `yaml:"name"`
	NewTag string `yaml:"newTag"`
}

// generatedFile is one file of a configMapGenerator: its key in the
// ConfigMap (the file name in the mounted folder) and its path here.
type generatedFile struct{ key, path, root string }

// generatorFiles returns a generator's files, relative to dir. An entry is
// PATH or KEY=PATH.
func generatorFiles(dir string, entries []string) []generatedFile {
	var out []generatedFile
	for _, e := range entries {
		key, p, ok := strings.Cut(e, "=")
		if !ok {
			key, p = path.Base(e), e
		}
		out = append(out, generatedFile{key: key, path: filepath.Join(dir, filepath.FromSlash(p)), root: dir})
	}
	return out
}

// deployment is the part of a Deployment the tests read.
type deployment struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas int           `yaml:"replicas"`
		Selector labelSelector `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				TopologySpreadConstraints []struct {
					TopologyKey   string        `yaml:"topologyKey"`
					LabelSelector labelSelector `yaml:"labelSelector"`
				} `yaml:"topologySpreadConstraints"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					Projected *struct {
						Sources []struct {
							ConfigMap *struct {
								Name string `yaml:"name"`
							} `yaml:"configMap"`
						} `yaml:"sources"`
					} `yaml:"projected"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
						Items      []struct {
							Key  string `yaml:"key"`
							Path string `yaml:"path"`
						} `yaml:"items"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			ResourceFieldRef struct {
				Resource string `yaml:"resource"`
				Divisor  string `yaml:"divisor"`
			} `yaml:"resourceFieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// port resolves a port given by name or number to the container's number.
func (c *container) port(p any) int {
	switch v := p.(type) {
	case string:
		for _, cp := range c.Ports {
			if cp.Name == v {
				return cp.ContainerPort
			}
		}
		n, _ := strconv.Atoi(v)
		return n
	case uint64:
		return int(v)
	case int64:
		return int(v)
	case int:
		return v
	}
	return 0
}

type service struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type hpa struct {
	Spec struct {
		ScaleTargetRef struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Name       string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		MinReplicas int         `yaml:"minReplicas"`
		MaxReplicas int         `yaml:"maxReplicas"`
		Metrics     []hpaMetric `yaml:"metrics"`
	} `yaml:"spec"`
}

type hpaMetric struct {
	Type     string `yaml:"type"`
	Resource struct {
		Name   string `yaml:"name"`
		Target struct {
			Type               string `yaml:"type"`
			AverageUtilization int    `yaml:"averageUtilization"`
		} `yaml:"target"`
	} `yaml:"resource"`
}

type pdb struct {
	Spec struct {
		MinAvailable int           `yaml:"minAvailable"`
		Selector     labelSelector `yaml:"selector"`
	} `yaml:"spec"`
}

// deployFiles are the deployment files, read and checked for shape.
type deployFiles struct {
	kust    kustomization
	objects []object
	// byName maps KIND/NAME to each object: Inlay's are named inlay,
	// Valkey's valkey.
	byName map[string]object
	// generated maps a ConfigMap generator's name to its files.
	generated map[string][]generatedFile
}

// readDeployFiles reads kustomization.yaml and every manifest it lists,
// and checks that every YAML file of the folder is one of them or a
// ConfigMap's file.
func readDeployFiles(t *testing.T) *deployFiles {
	t.Helper()
	d := &deployFiles{byName: map[string]object{}, generated: map[string][]generatedFile{}}
	kdocs := readDocuments(t, filepath.Join(manifestsDir, "kustomization.yaml"))
	if len(kdocs) != 1 {
		t.Fatalf("kustomization.yaml has %d documents, want 1", len(kdocs))
	}
	object{file: "kustomization.yaml", doc: kdocs[0]}.decode(t, &d.kust)
	known := map[string]bool{filepath.Join(manifestsDir, "kustomization.yaml"): true}
	for _, g := range d.kust.ConfigMapGenerator {
		d.generated[g.Name] = generatorFiles(manifestsDir, g.Files)
		for _, f := range d.generated[g.Name] {
			known[f.path] = true
		}
	}
	for _, r := range d.kust.Resources {
		file := filepath.Join(manifestsDir, filepath.FromSlash(r))
		known[file] = true
		if fi, err := os.Stat(file); err == nil && fi.IsDir() {
			// A kustomization of its own, such as ../../layouts: its
			// ConfigMap generators join ours.
			var sub kustomization
			sdocs := readDocuments(t, filepath.Join(file, "kustomization.yaml"))
			if len(sdocs) != 1 {
				t.Fatalf("%s/kustomization.yaml has %d documents, want 1", file, len(sdocs))
			}
			object{file: filepath.Join(file, "kustomization.yaml"), doc: sdocs[0]}.decode(t, &sub)
			for _, g := range sub.ConfigMapGenerator {
				d.kust.ConfigMapGenerator = append(d.kust.ConfigMapGenerator, g)
				d.generated[g.Name] = generatorFiles(file, g.Files)
			}
			continue
		}
		for _, doc := range readDocuments(t, file) {
			o := object{file: file, doc: doc}
			d.objects = append(d.objects, o)
			id := o.kind() + "/" + o.name()
			if _, dup := d.byName[id]; dup {
				t.Errorf("%s: a second %s", file, id)
			}
			d.byName[id] = o
		}
	}
	err := filepath.WalkDir(manifestsDir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); (ext == ".yaml" || ext == ".yml") && !known[p] {
			t.Errorf("%s is neither in kustomization.yaml's resources nor a ConfigMap's file: kubectl apply -k would ignore it", p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", manifestsDir, err)
	}
	return d
}

// get decodes Inlay's object of a kind, failing the test without it.
func (d *deployFiles) get(t *testing.T, kind string, v any) object {
	t.Helper()
	return d.getNamed(t, kind, "inlay", v)
}

// getNamed decodes the object of a kind and name, failing the test without
// it.
func (d *deployFiles) getNamed(t *testing.T, kind, name string, v any) object {
	t.Helper()
	o, ok := d.byName[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s named %s in %s", kind, name, manifestsDir)
	}
	o.decode(t, v)
	return o
}

// inlayContainer returns the Deployment and its inlay container.
func (d *deployFiles) inlayContainer(t *testing.T) (*deployment, *container) {
	t.Helper()
	var dep deployment
	d.get(t, "Deployment", &dep)
	for i := range dep.Spec.Template.Spec.Containers {
		if c := &dep.Spec.Template.Spec.Containers[i]; c.Name == "inlay" {
			return &dep, c
		}
	}
	t.Fatal("the Deployment has no container named inlay")
	return nil, nil
}

func TestManifestsHaveKindAndName(t *testing.T) {
	d := readDeployFiles(t)
	if d.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || d.kust.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion %q kind %q", d.kust.APIVersion, d.kust.Kind)
	}
	for _, o := range d.objects {
		if o.apiVersion() == "" || o.kind() == "" || o.name() == "" {
			t.Errorf("%s: a document without apiVersion, kind or metadata.name: %q %q %q", o.file, o.apiVersion(), o.kind(), o.name())
		}
	}
	want := map[string]string{
		"Deployment":              "apps/v1",
		"Service":                 "v1",
		"HorizontalPodAutoscaler": "autoscaling/v2",
		"PodDisruptionBudget":     "policy/v1",
		"NetworkPolicy":           "networking.k8s.io/v1",
	}
	for kind, apiVersion := range want {
		o, ok := d.byName[kind+"/inlay"]
		if !ok {
			t.Errorf("no %s named inlay in %s", kind, manifestsDir)
			continue
		}
		if o.apiVersion() != apiVersion {
			t.Errorf("%s: %s has apiVersion %q, want %q", o.file, kind, o.apiVersion(), apiVersion)
		}
	}
}

func TestKustomizationFilesExist(t *testing.T) {
	d := readDeployFiles(t)
	for _, name := range []string{"inlay-config", "inlay-layouts"} {
		if len(d.generated[name]) == 0 {
			t.Errorf("no configMapGenerator %q with files", name)
		}
	}
	keys := map[string]string{}
	for name, files := range d.generated {
		for _, f := range files {
			if _, err := os.Stat(f.path); err != nil {
				t.Errorf("configMapGenerator %s: %v", name, err)
			}
			if rel, err := filepath.Rel(f.root, f.path); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("configMapGenerator %s: %s is outside %s: kustomize refuses it without --load-restrictor", name, f.path, f.root)
			}
			if other, dup := keys[f.key]; dup {
				t.Errorf("file name %s comes from both %s and %s: they share one folder", f.key, other, name)
			}
			keys[f.key] = name
		}
	}
	for _, g := range d.kust.ConfigMapGenerator {
		// The config must roll the pods (read once); the layouts must not
		// (hot reload needs the ConfigMap updated in place).
		wantHash := g.Name == "inlay-config"
		if g.Options.DisableNameSuffixHash == wantHash {
			t.Errorf("configMapGenerator %s: disableNameSuffixHash is %v", g.Name, g.Options.DisableNameSuffixHash)
		}
	}
}

// TestLayoutsConfigMapHoldsEveryDemoLayout fails when a layout is added to
// layouts/ but not to its kustomization.yaml, which makes the ConfigMap.
func TestLayoutsConfigMapHoldsEveryDemoLayout(t *testing.T) {
	d := readDeployFiles(t)
	copies := map[string]string{}
	for _, f := range d.generated["inlay-layouts"] {
		copies[f.key] = f.path
	}
	demo, err := filepath.Glob(filepath.Join("..", "layouts", "*.html"))
	if err != nil || len(demo) == 0 {
		t.Fatalf("no demo layouts in ../layouts: %v", err)
	}
	for _, src := range demo {
		name := filepath.Base(src)
		cp, ok := copies[name]
		if !ok {
			t.Errorf("%s is not in the inlay-layouts ConfigMap: list it in layouts/kustomization.yaml", src)
			continue
		}
		a, errA := os.ReadFile(src)
		b, errB := os.ReadFile(cp)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", cp, src)
		}
	}
	if len(copies) != len(demo) {
		t.Errorf("the inlay-layouts ConfigMap has %d layouts, layouts/ has %d", len(copies), len(demo))
	}
}

// TestConfigMapServes loads the mounted folder as Inlay would: the config
// is valid, listens where the container's ports are, and every page's
// layout is there and valid.
func TestConfigMapServes(t *testing.T) {
	d := readDeployFiles(t)
	_, c := d.inlayContainer(t)
	fsys := fstest.MapFS{}
	for _, name := range []string{"inlay-config", "inlay-layouts"} {
		for _, f := range d.generated[name] {
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			fsys[f.key] = &fstest.MapFile{Data: data}
		}
	}
	data, ok := fsys["inlay.yaml"]
	if !ok {
		t.Fatal("no inlay.yaml in the ConfigMaps")
	}
	cfg, err := config.Parse(filepath.Join(manifestsDir, "inlay.yaml"), data.Data)
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	if cfg.Layouts != "." {
		t.Errorf("config layouts: %q, want . (the layouts are mounted beside it)", cfg.Layouts)
	}
	for _, tc := range []struct{ key, addr, port string }{
		{"listen", cfg.Listen, "http"},
		{"admin", cfg.Admin, "admin"},
	} {
		host, port, err := net.SplitHostPort(tc.addr)
		if err != nil {
			t.Errorf("config %s %q: %v", tc.key, tc.addr, err)
			continue
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			t.Errorf("config %s %q: listen on every interface, or the kubelet's probes cannot reach it", tc.key, tc.addr)
		}
		if n, _ := strconv.Atoi(port); n == 0 || n != c.port(tc.port) {
			t.Errorf("config %s %q: port is not the container's %s port %d", tc.key, tc.addr, tc.port, c.port(tc.port))
		}
	}
	layouts, err := layout.Load(fsys, "/etc/inlay", cfg.Services)
	if err != nil {
		t.Fatalf("the ConfigMap's layouts: %v", err)
	}
	if ps := layout.CheckPages(cfg, layouts); len(ps) > 0 {
		t.Errorf("the ConfigMap's pages: %v", ps)
	}
}

func TestDeployment(t *testing.T) {
	d := readDeployFiles(t)
	dep, c := d.inlayContainer(t)
	spec := dep.Spec.Template.Spec
	podLabels := dep.Spec.Template.Metadata.Labels

	if dep.Spec.Replicas != 3 {
		t.Errorf("replicas: %d, want 3", dep.Spec.Replicas)
	}
	if !selects(dep.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, podLabels)
	}
	repo, tag, _ := strings.Cut(c.Image, ":")
	if !slices.ContainsFunc(d.kust.Images, func(i kustImage) bool {
		return i.Name == repo && i.NewTag != "" && i.NewTag != "latest"
	}) {
		t.Errorf("image %q: kustomization.yaml's images must set a tag (not latest) for %s", c.Image, repo)
	}
	if tag == "" || tag == "latest" {
		t.Errorf("image %q: give a tag, not latest", c.Image)
	}
	if c.port("http") != 8080 || c.port("admin") != 9090 {
		t.Errorf("container ports: http %d, admin %d; want 8080 and 9090", c.port("http"), c.port("admin"))
	}

	probes := []struct {
		name string
		p    *probe
		path string
	}{
		{"readinessProbe", c.ReadinessProbe, "/-/ready"},
		{"livenessProbe", c.LivenessProbe, "/-/health"},
	}
	for _, pr := range probes {
		switch {
		case pr.p == nil || pr.p.HTTPGet == nil:
			t.Errorf("%s: no httpGet", pr.name)
		case pr.p.HTTPGet.Path != pr.path:
			t.Errorf("%s path %q, want %q", pr.name, pr.p.HTTPGet.Path, pr.path)
		case c.port(pr.p.HTTPGet.Port) != 8080:
			t.Errorf("%s port %v, want the shopper port 8080", pr.name, pr.p.HTTPGet.Port)
		}
	}

	sc := c.SecurityContext
	security := []struct {
		name string
		ok   bool
	}{
		{"pod runAsNonRoot: true", isTrue(spec.SecurityContext.RunAsNonRoot)},
		{"container runAsNonRoot: true", isTrue(sc.RunAsNonRoot)},
		{"readOnlyRootFilesystem: true", isTrue(sc.ReadOnlyRootFilesystem)},
		{"allowPrivilegeEscalation: false", sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation},
		{"capabilities drop ALL", slices.Contains(sc.Capabilities.Drop, "ALL")},
	}
	for _, s := range security {
		if !s.ok {
			t.Errorf("securityContext: want %s", s.name)
		}
	}

	preStop := 0
	if c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Error("no preStop sleep: SIGTERM would come before the endpoints drop the pod")
	} else {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	if grace := spec.TerminationGracePeriodSeconds; grace <= preStop+drainSeconds {
		t.Errorf("terminationGracePeriodSeconds %d: want more than the preStop sleep (%ds) and the %ds drain delay and drain", grace, preStop, drainSeconds)
	}

	requests, limits := c.Resources.Requests, c.Resources.Limits
	if requests["cpu"] == "" {
		t.Error("no CPU request: the HorizontalPodAutoscaler's utilization is relative to it")
	}
	reqMem, limMem := bytesOf(t, requests["memory"]), bytesOf(t, limits["memory"])
	if reqMem < measuredRSS || limMem < reqMem {
		t.Errorf("memory request %s and limit %s: want request ≥ the measured %d MiB RSS and limit ≥ request", requests["memory"], limits["memory"], measuredRSS>>20)
	}
	godebug, maxprocs := "", false
	for _, e := range c.Env {
		// GOMAXPROCS is the CPU request in whole cores, rounded up: with
		// no CPU limit, Go would count the node's cores.
		if ref := e.ValueFrom.ResourceFieldRef; e.Name == "GOMAXPROCS" && ref.Resource == "requests.cpu" && ref.Divisor == "1" {
			maxprocs = true
		}
		if e.Name == "GOMEMLIMIT" && bytesOf(t, strings.TrimSuffix(e.Value, "B")) >= limMem {
			t.Errorf("GOMEMLIMIT %s is not below the memory limit %s", e.Value, limits["memory"])
		}
		if e.Name == "GODEBUG" {
			godebug = e.Value
		}
	}
	if !maxprocs {
		t.Error("GOMAXPROCS does not come from the CPU request (resourceFieldRef requests.cpu, divisor 1): without a CPU limit, Go runs a thread per core of the node")
	}
	// A GODEBUG in the manifest would replace the image's: it has to
	// hold Inlay's settings, and the manifest sets it so that nobody
	// adds one without them.
	if missing := missingSettings(godebug, inlayGODEBUG(t)); len(missing) > 0 {
		t.Errorf("the container's GODEBUG %q lacks %q (the Makefile's INLAY_GODEBUG)", godebug, missing)
	}

	if len(spec.TopologySpreadConstraints) == 0 {
		t.Error("no topologySpreadConstraints")
	}
	for _, tsc := range spec.TopologySpreadConstraints {
		if !selects(tsc.LabelSelector.MatchLabels, podLabels) {
			t.Errorf("topologySpreadConstraint %s: selector %v does not select the pods", tsc.TopologyKey, tsc.LabelSelector.MatchLabels)
		}
	}

	// /etc/inlay holds the config and the layouts, from both ConfigMaps.
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if m.MountPath != "/etc/inlay" {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.ConfigMap != nil {
				mounted[v.ConfigMap.Name] = true
			}
			if v.Projected != nil {
				for _, s := range v.Projected.Sources {
					if s.ConfigMap != nil {
						mounted[s.ConfigMap.Name] = true
					}
				}
			}
		}
	}
	for name := range d.generated {
		if !mounted[name] {
			t.Errorf("ConfigMap %s is not mounted at /etc/inlay", name)
		}
	}
}

func TestServiceHPAAndPDBMatchTheDeployment(t *testing.T) {
	d := readDeployFiles(t)
	dep, c := d.inlayContainer(t)
	podLabels := dep.Spec.Template.Metadata.Labels

	var svc service
	d.get(t, "Service", &svc)
	var h hpa
	d.get(t, "HorizontalPodAutoscaler", &h)
	var p pdb
	d.get(t, "PodDisruptionBudget", &p)

	selectors := []struct {
		name     string
		selector map[string]string
	}{
		{"Service", svc.Spec.Selector},
		{"PodDisruptionBudget", p.Spec.Selector.MatchLabels},
	}
	for _, s := range selectors {
		if !selects(s.selector, podLabels) {
			t.Errorf("the %s's selector %v does not select the Deployment's pods %v", s.name, s.selector, podLabels)
		}
	}
	if len(svc.Spec.Ports) == 0 {
		t.Error("the Service has no ports")
	}
	for _, sp := range svc.Spec.Ports {
		if c.port(sp.TargetPort) != 8080 {
			t.Errorf("Service port %s: targetPort %v is not the container's shopper port 8080", sp.Name, sp.TargetPort)
		}
	}

	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != dep.Metadata.Name {
		t.Errorf("the HPA targets %s %s %q, want apps/v1 Deployment %q", ref.APIVersion, ref.Kind, ref.Name, dep.Metadata.Name)
	}
	cpu70 := slices.ContainsFunc(h.Spec.Metrics, func(m hpaMetric) bool {
		return m.Type == "Resource" && m.Resource.Name == "cpu" && m.Resource.Target.Type == "Utilization" && m.Resource.Target.AverageUtilization == 70
	})
	if !cpu70 {
		t.Errorf("the HPA does not scale on 70%% CPU utilization: %+v", h.Spec.Metrics)
	}
	if h.Spec.MinReplicas <= p.Spec.MinAvailable || h.Spec.MaxReplicas < h.Spec.MinReplicas {
		t.Errorf("HPA replicas %d..%d with PDB minAvailable %d: a node drain could never evict a pod", h.Spec.MinReplicas, h.Spec.MaxReplicas, p.Spec.MinAvailable)
	}
	if p.Spec.MinAvailable != 2 {
		t.Errorf("PDB minAvailable %d, want 2", p.Spec.MinAvailable)
	}
}

// dockerStage is one FROM stage of the Dockerfile.
type dockerStage struct {
	from, name string
	lines      []dockerLine
}

// dockerLine is one instruction, continuation lines joined.
type dockerLine struct {
	instr, args string
	line        int
}

// parseDockerfile splits the Dockerfile into stages of instructions.
func parseDockerfile(t *testing.T, file string) []dockerStage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var cur strings.Builder
	start, n := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasPrefix(text, "#") {
			continue // a comment inside a continued instruction
		}
		if s, ok := strings.CutSuffix(text, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(text)
		instr, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		l := dockerLine{instr: strings.ToUpper(instr), args: strings.TrimSpace(args), line: start}
		if l.instr == "FROM" {
			fields := slices.DeleteFunc(strings.Fields(l.args), func(f string) bool { return strings.HasPrefix(f, "--") })
			st := dockerStage{from: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before FROM", file, l.line, l.instr)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// find returns the stage's instructions of one kind.
func (s dockerStage) find(instr string) []dockerLine {
	var out []dockerLine
	for _, l := range s.lines {
		if l.instr == instr {
			out = append(out, l)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if build.from != "golang:1.26" {
		t.Errorf("build stage FROM %s, want golang:1.26", build.from)
	}
	var env, goBuild string
	for _, l := range build.find("RUN") {
		if before, after, ok := strings.Cut(l.args, "go build "); ok {
			env, goBuild = before, after
		}
	}
	if !slices.Contains(strings.Fields(env), "CGO_ENABLED=0") {
		t.Errorf("the build stage's go build does not run with CGO_ENABLED=0: %q", env)
	}
	for _, want := range []string{"-trimpath", `-ldflags "-s -w"`, "./cmd/inlay"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the build stage's go build %q lacks %q", goBuild, want)
		}
	}
	// The settings go in the environment, not into the binary: -X of
	// runtime.godebugDefault would replace the GODEBUG defaults go build
	// sets from go.mod.
	if strings.Contains(goBuild, "-X") {
		t.Errorf("the build stage's go build %q sets a variable at link time: put settings in ENV", goBuild)
	}
	godebug := ""
	for _, l := range final.find("ENV") {
		for _, kv := range strings.Fields(l.args) {
			if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
				godebug = v
			}
		}
	}
	if missing := missingSettings(godebug, inlayGODEBUG(t)); len(missing) > 0 {
		t.Errorf("the final stage's ENV GODEBUG=%q lacks %q (the Makefile's INLAY_GODEBUG)", godebug, missing)
	}
	if final.from != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage FROM %s, want gcr.io/distroless/static-debian12:nonroot", final.from)
	}
	copies := final.find("COPY")
	if len(copies) == 0 || !strings.HasPrefix(copies[0].args, "--from="+build.name+" ") || !strings.HasSuffix(copies[0].args, " /inlay") {
		t.Errorf("the final stage does not copy the binary from the %q stage to /inlay: %v", build.name, copies)
	}
	if users := final.find("USER"); len(users) == 0 || users[len(users)-1].args != "nonroot" {
		t.Errorf("final stage USER %v, want nonroot", users)
	}

	d := readDeployFiles(t)
	_, c := d.inlayContainer(t)
	var exposed []int
	for _, l := range final.find("EXPOSE") {
		for _, f := range strings.Fields(l.args) {
			n, _ := strconv.Atoi(strings.TrimSuffix(f, "/tcp"))
			exposed = append(exposed, n)
		}
	}
	wantPorts := []int{8080, 9090, c.port("http"), c.port("admin")}
	slices.Sort(wantPorts)
	for _, want := range slices.Compact(wantPorts) {
		if !slices.Contains(exposed, want) {
			t.Errorf("EXPOSE %v lacks %d", exposed, want)
		}
	}

	entry := final.find("ENTRYPOINT")
	if len(entry) != 1 {
		t.Fatalf("%d ENTRYPOINTs in the final stage, want 1", len(entry))
	}
	var argv []string
	if err := json.Unmarshal([]byte(entry[0].args), &argv); err != nil {
		t.Fatalf("ENTRYPOINT %s: want the exec (JSON) form, no shell in distroless: %v", entry[0].args, err)
	}
	want := []string{"/inlay", "serve", "--config", "/etc/inlay/inlay.yaml"}
	if !slices.Equal(argv, want) {
		t.Errorf("ENTRYPOINT %q, want %q", argv, want)
	}
	// The config the entrypoint names is where the Deployment mounts it.
	configDir, configName := path.Split(want[3])
	found := false
	for _, m := range c.VolumeMounts {
		found = found || path.Clean(m.MountPath) == path.Clean(configDir)
	}
	if !found {
		t.Errorf("nothing is mounted at %s, where the entrypoint's config is", configDir)
	}
	if !slices.ContainsFunc(d.generated["inlay-config"], func(f generatedFile) bool { return f.key == configName }) {
		t.Errorf("the inlay-config ConfigMap has no %s", configName)
	}

	ignore, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	for _, want := range []string{".git", "bin"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore does not keep %s out of the build context", want)
		}
	}
}

// inlayGODEBUG returns the GODEBUG Inlay runs with: the Makefile's
// INLAY_GODEBUG, which make run and the load benchmark use.
func inlayGODEBUG(t *testing.T) string {
	t.Helper()
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^INLAY_GODEBUG \?= (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("the Makefile sets no INLAY_GODEBUG")
	}
	return string(m[1])
}

// missingSettings returns the settings of want (comma-separated
// key=value, as in GODEBUG) that got does not hold.
func missingSettings(got, want string) []string {
	have := strings.Split(got, ",")
	var missing []string
	for _, kv := range strings.Split(want, ",") {
		if !slices.Contains(have, kv) {
			missing = append(missing, kv)
		}
	}
	return missing
}

// selects reports whether a non-empty label selector matches labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

// bytesOf parses a Kubernetes memory quantity such as 128Mi.
func bytesOf(t *testing.T, q string) int64 {
	t.Helper()
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(q, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				t.Errorf("memory quantity %q: %v", q, err)
				return 0
			}
			return n * u.mult
		}
	}
	return 0 // not reached: the last suffix is ""
}

// valkeyDeployment is the part of Valkey's Deployment the tests read.
type valkeyDeployment struct {
	Spec struct {
		Replicas int           `yaml:"replicas"`
		Selector labelSelector `yaml:"selector"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type networkPolicy struct {
	Spec struct {
		PodSelector labelSelector `yaml:"podSelector"`
		PolicyTypes []string      `yaml:"policyTypes"`
		Ingress     []struct {
			From []struct {
				PodSelector       *labelSelector `yaml:"podSelector"`
				NamespaceSelector *labelSelector `yaml:"namespaceSelector"`
				IPBlock           any            `yaml:"ipBlock"`
			} `yaml:"from"`
			Ports []struct {
				Port any `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"ingress"`
	} `yaml:"spec"`
}

// TestValkeyServesTheSharedTier: the config's cache.shared.url reaches
// Valkey's Service, which selects Valkey's pod and no Inlay pod; Valkey
// keeps nothing on disk, stays inside its memory limit, is locked down,
// and only Inlay's pods may reach it.
func TestValkeyServesTheSharedTier(t *testing.T) {
	d := readDeployFiles(t)
	var vd valkeyDeployment
	d.getNamed(t, "Deployment", "valkey", &vd)
	var vs service
	d.getNamed(t, "Service", "valkey", &vs)
	var np networkPolicy
	d.getNamed(t, "NetworkPolicy", "valkey", &np)
	inlayDep, _ := d.inlayContainer(t)
	inlayPods := inlayDep.Spec.Template.Metadata.Labels
	valkeyPods := vd.Spec.Template.Metadata.Labels

	if vd.Spec.Replicas != 1 || vd.Spec.Strategy.Type != "Recreate" {
		t.Errorf("valkey: %d replicas with strategy %q; want 1 with Recreate, so the replicas never see two caches", vd.Spec.Replicas, vd.Spec.Strategy.Type)
	}
	if len(vd.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("valkey: %d containers, want 1", len(vd.Spec.Template.Spec.Containers))
	}
	vc := vd.Spec.Template.Spec.Containers[0]

	// Selectors: each selects its own pods and not the other's.
	var inlaySvc service
	d.get(t, "Service", &inlaySvc)
	var p pdb
	d.get(t, "PodDisruptionBudget", &p)
	for _, s := range []struct {
		name           string
		selector, pods map[string]string
		want           bool
	}{
		{"valkey Deployment → valkey pods", vd.Spec.Selector.MatchLabels, valkeyPods, true},
		{"valkey Service → valkey pods", vs.Spec.Selector, valkeyPods, true},
		{"valkey Service → inlay pods", vs.Spec.Selector, inlayPods, false},
		{"inlay Deployment → valkey pods", inlayDep.Spec.Selector.MatchLabels, valkeyPods, false},
		{"inlay Service → valkey pods", inlaySvc.Spec.Selector, valkeyPods, false},
		{"inlay PodDisruptionBudget → valkey pods", p.Spec.Selector.MatchLabels, valkeyPods, false},
		{"NetworkPolicy → valkey pods", np.Spec.PodSelector.MatchLabels, valkeyPods, true},
	} {
		if got := selects(s.selector, s.pods); got != s.want {
			t.Errorf("%s: selects %t, want %t (selector %v, labels %v)", s.name, got, s.want, s.selector, s.pods)
		}
	}

	// The config points at the Service's port, which is the container's.
	cfg := mountedConfig(t, d)
	if !cfg.Cache.Shared.Enabled() {
		t.Fatal("inlay.yaml has no cache.shared.url")
	}
	u, err := url.Parse(cfg.Cache.Shared.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.User != nil {
		t.Errorf("cache.shared.url %s holds credentials in a ConfigMap", cfg.Cache.Shared.RedactedURL())
	}
	port, _ := strconv.Atoi(u.Port())
	if u.Hostname() != "valkey" || len(vs.Spec.Ports) != 1 || vs.Spec.Ports[0].Port != port {
		t.Errorf("cache.shared.url %s: want host valkey and the Service's port %v", u, vs.Spec.Ports)
	} else if vc.port(vs.Spec.Ports[0].TargetPort) != port || !slices.Contains(vc.Args, strconv.Itoa(port)) {
		t.Errorf("the valkey Service's targetPort %v is not the container's port %d", vs.Spec.Ports[0].TargetPort, port)
	}

	// A cache: nothing on disk, memory capped below the limit.
	args := strings.Join(vc.Args, " ")
	for _, want := range []string{`--save `, "--appendonly no", "--maxmemory-policy allkeys-lru"} {
		if !strings.Contains(args, want) {
			t.Errorf("valkey args %q lack %q", vc.Args, want)
		}
	}
	if i := slices.Index(vc.Args, "--save"); i < 0 || i+1 >= len(vc.Args) || vc.Args[i+1] != "" {
		t.Errorf("valkey args %q: want --save \"\" (no snapshots)", vc.Args)
	}
	maxmemory := int64(0)
	if i := slices.Index(vc.Args, "--maxmemory"); i >= 0 && i+1 < len(vc.Args) {
		maxmemory = bytesOf(t, strings.NewReplacer("mb", "Mi", "gb", "Gi").Replace(vc.Args[i+1]))
	}
	if limit := bytesOf(t, vc.Resources.Limits["memory"]); maxmemory == 0 || maxmemory >= limit || bytesOf(t, vc.Resources.Requests["memory"]) < maxmemory {
		t.Errorf("valkey --maxmemory %d with memory request %s and limit %s: want maxmemory ≤ request < limit", maxmemory, vc.Resources.Requests["memory"], vc.Resources.Limits["memory"])
	}

	sc := vc.SecurityContext
	if !isTrue(vd.Spec.Template.Spec.SecurityContext.RunAsNonRoot) || !isTrue(sc.RunAsNonRoot) || !isTrue(sc.ReadOnlyRootFilesystem) ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("valkey securityContext: want non-root, read-only root, no privilege escalation, all capabilities dropped: %+v", sc)
	}

	// Only Inlay's pods reach it, on its port.
	allowed := false
	for _, in := range np.Spec.Ingress {
		for _, f := range in.From {
			if f.PodSelector == nil || !selects(f.PodSelector.MatchLabels, inlayPods) {
				t.Errorf("the NetworkPolicy lets in more than Inlay's pods: %+v", f)
				continue
			}
			for _, pp := range in.Ports {
				allowed = allowed || vc.port(pp.Port) == port
			}
		}
	}
	if !allowed || !slices.Contains(np.Spec.PolicyTypes, "Ingress") {
		t.Errorf("the NetworkPolicy does not limit ingress to Inlay's pods on port %d: %+v", port, np.Spec)
	}
}

// TestConfigPinsTheShopsHost (S5): the cluster's config sets public_url,
// so fragments never get a base URL made from a shopper's Host and any
// other host is answered 421; lint has nothing to warn about. The probes
// the kubelet sends to the pod's address are among the paths that answer
// on any host.
func TestConfigPinsTheShopsHost(t *testing.T) {
	d := readDeployFiles(t)
	cfg := mountedConfig(t, d)
	if cfg.PublicURL == "" {
		t.Fatal("inlay.yaml sets no public_url: fragments would get each shopper's Host as X-Inlay-Base-URL")
	}
	if ws := cfg.Warnings(); len(ws) > 0 {
		t.Errorf("inlay.yaml: inlay lint would warn: %v", ws)
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil {
		t.Fatal(err)
	}
	hosts := cfg.AllowedHosts()
	for _, host := range []string{u.Host, net.JoinHostPort(u.Hostname(), "443")} {
		if !hosts.Allows(host) {
			t.Errorf("Host %s, public_url's own, is refused", host)
		}
	}
	for _, host := range []string{"evil.example", "10.1.2.3:8080"} {
		if hosts.Allows(host) {
			t.Errorf("Host %s is answered: want 421 for any host but public_url's", host)
		}
	}
	_, c := d.inlayContainer(t)
	for name, p := range map[string]*probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || !composer.AnswersAnyHost(p.HTTPGet.Path) {
			t.Errorf("%s: its path does not answer on the pod's address, which the kubelet sends as the Host", name)
		}
	}
}

// mountedConfig parses inlay.yaml from the inlay-config ConfigMap.
func mountedConfig(t *testing.T, d *deployFiles) *config.Config {
	t.Helper()
	for _, f := range d.generated["inlay-config"] {
		if f.key != "inlay.yaml" {
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse(f.path, data)
		if err != nil {
			t.Fatalf("inlay.yaml: %v", err)
		}
		return cfg
	}
	t.Fatal("no inlay.yaml in the inlay-config ConfigMap")
	return nil
}

// TestAdminPortOnlyFromMonitoring (I4): Inlay's NetworkPolicy lets anyone reach
// the shopper port and only Prometheus pods of a monitoring namespace
// reach the admin port, where purge and pprof also ask for the admin
// token, which the pods read from a Secret that no manifest holds.
func TestAdminPortOnlyFromMonitoring(t *testing.T) {
	d := readDeployFiles(t)
	var np networkPolicy
	d.get(t, "NetworkPolicy", &np)
	dep, c := d.inlayContainer(t)
	inlayPods := dep.Spec.Template.Metadata.Labels
	var vd valkeyDeployment
	d.getNamed(t, "Deployment", "valkey", &vd)

	if !selects(np.Spec.PodSelector.MatchLabels, inlayPods) || selects(np.Spec.PodSelector.MatchLabels, vd.Spec.Template.Metadata.Labels) {
		t.Errorf("the NetworkPolicy's podSelector %v: want Inlay's pods %v and not Valkey's", np.Spec.PodSelector.MatchLabels, inlayPods)
	}
	if !slices.Contains(np.Spec.PolicyTypes, "Ingress") {
		t.Errorf("policyTypes %v: without Ingress the policy limits nothing coming in", np.Spec.PolicyTypes)
	}
	shopperPort, adminPort := c.port("http"), c.port("admin")
	shoppersIn, monitoringIn := false, false
	for i, in := range np.Spec.Ingress {
		ports := map[int]bool{}
		for _, p := range in.Ports {
			ports[c.port(p.Port)] = true
		}
		all := len(in.Ports) == 0 // a rule without ports opens every port
		if (all || ports[shopperPort]) && len(in.From) == 0 {
			shoppersIn = true
		}
		if !all && !ports[adminPort] {
			continue
		}
		if len(in.From) == 0 {
			t.Errorf("ingress[%d] opens the admin port %d to everyone", i, adminPort)
			continue
		}
		for _, f := range in.From {
			prometheus := f.PodSelector != nil && f.PodSelector.MatchLabels["app.kubernetes.io/name"] == "prometheus"
			if f.IPBlock != nil || !prometheus || f.NamespaceSelector == nil || len(f.NamespaceSelector.MatchLabels) == 0 {
				t.Errorf("ingress[%d] opens the admin port %d to more than Prometheus pods of a monitoring namespace: %+v", i, adminPort, f)
				continue
			}
			monitoringIn = true
		}
	}
	if !shoppersIn {
		t.Errorf("no ingress rule lets everyone reach the shopper port %d: shoppers and probes would be cut off", shopperPort)
	}
	if !monitoringIn {
		t.Errorf("no ingress rule lets Prometheus reach the admin port %d: /metrics would not be scraped", adminPort)
	}

	// The admin token: a file of a Secret volume, mounted read-only where
	// the config's admin_token_file points.
	cfg := mountedConfig(t, d)
	if cfg.AdminToken != "" {
		t.Error("inlay.yaml holds admin_token in a ConfigMap: use admin_token_file")
	}
	if !cfg.AdminExposed() || cfg.AdminTokenFile == "" || !path.IsAbs(cfg.AdminTokenFile) {
		t.Fatalf("inlay.yaml: admin %q with admin_token_file %q; want an absolute file for the admin port every interface binds", cfg.Admin, cfg.AdminTokenFile)
	}
	dir, file := path.Split(cfg.AdminTokenFile)
	found := false
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != path.Clean(dir) {
			continue
		}
		for _, v := range dep.Spec.Template.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, it := range v.Secret.Items {
				found = found || it.Path == file && m.ReadOnly
			}
		}
	}
	if !found {
		t.Errorf("admin_token_file %s is not a file of a Secret volume mounted read-only at %s", cfg.AdminTokenFile, dir)
	}
	for _, o := range d.objects {
		if o.kind() == "Secret" {
			t.Errorf("%s: a Secret in the manifests puts its value in git; make it with kubectl create secret (deploy/README.md)", o.file)
		}
	}
}

// Sign-in's secrets reach the pods from the Secret inlay-auth, as the
// environment variables Inlay reads, and the Secret may be absent.
func TestDeploymentTakesSignInSecretsFromASecret(t *testing.T) {
	docs := readDocuments(t, filepath.Join(manifestsDir, "deployment.yaml"))
	want := map[string]string{config.EnvClientSecret: "client-secret", config.EnvSessionKeys: "session-keys"}
	found := 0
	for _, doc := range docs {
		if doc["kind"] != "Deployment" {
			continue
		}
		data, _ := json.Marshal(doc)
		var d struct {
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Env []struct {
								Name      string `json:"name"`
								ValueFrom *struct {
									SecretKeyRef *struct {
										Name     string `json:"name"`
										Key      string `json:"key"`
										Optional bool   `json:"optional"`
									} `json:"secretKeyRef"`
								} `json:"valueFrom"`
							} `json:"env"`
						} `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				key, ok := want[e.Name]
				if !ok {
					continue
				}
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "inlay-auth" || e.ValueFrom.SecretKeyRef.Key != key || !e.ValueFrom.SecretKeyRef.Optional {
					t.Errorf("%s does not come from the optional Secret inlay-auth, key %s", e.Name, key)
				}
				found++
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d sign-in variables in the Deployment", found, len(want))
	}
}
