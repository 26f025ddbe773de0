package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/inlayhq/inlay/composer/config"
)

// Folder holds the parsed layouts of a folder. A reload swaps the whole
// set at once between requests; a file that no longer parses keeps its last
// good version serving.
type Folder struct {
	fsys     fs.FS
	dir      string // the folder's name, for messages
	services map[string]*config.Service

	current  atomic.Pointer[map[string]*Layout]
	problems atomic.Pointer[config.Problems] // of the last reload
	warnings atomic.Pointer[config.Problems] // of the files as the last reload read them
	sources  atomic.Pointer[sources]         // the files of the last reload, for excerpts
	files    atomic.Pointer[map[string]bool] // the layout files the last reload read
	errors   atomic.Int64                    // reloads that found problems
	mu       sync.Mutex                      // serializes reloads; protects required and changed
	required map[string]bool                 // layouts pages use: kept if their file goes
	changed  chan struct{}                   // closed and replaced by every reload
	version  atomic.Int64                    // reloads done
}

// Require names layouts that pages use. If such a file disappears while
// Inlay runs, its last good version keeps serving and a problem is
// reported, rather than the page failing.
func (l *Folder) Require(names ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.required == nil {
		l.required = map[string]bool{}
	}
	for _, n := range names {
		l.required[n] = true
	}
}

// ReloadErrors returns how many reloads found problems.
func (l *Folder) ReloadErrors() int64 { return l.errors.Load() }

// Dir returns the layouts folder dir as a file system confined to
// it: every lookup goes through an [os.Root] opened afresh, so links that
// stay inside the folder work (a Kubernetes ConfigMap links its files
// through ..data) and a link that leads out of it, such as
// cfg.html -> ../inlay.yaml, is refused. Opening the root per lookup
// follows the folder when it is replaced as a whole.
func Dir(dir string) fs.FS { return rootFS(dir) }

// rootFS is Dir's file system.
type rootFS string

// Open opens name inside the folder.
func (dir rootFS) Open(name string) (fs.File, error) {
	root, err := os.OpenRoot(string(dir))
	if err != nil {
		return nil, err
	}
	defer root.Close() // files opened through it stay open
	return root.FS().Open(name)
}

// ReadFile reads name inside the folder.
func (dir rootFS) ReadFile(name string) ([]byte, error) {
	root, err := os.OpenRoot(string(dir))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return fs.ReadFile(root.FS(), name)
}

// ReadDir lists a folder inside the folder.
func (dir rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	root, err := os.OpenRoot(string(dir))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return fs.ReadDir(root.FS(), name)
}

// readProblem describes a layout file that could not be read. A link out
// of the folder gets its own words: os.Root reports it as an error whose
// type it does not export.
func readProblem(err error) string {
	if strings.Contains(err.Error(), "path escapes from parent") {
		return "the file is a link that leads out of the layouts folder: refused (links must stay inside the folder)"
	}
	return fmt.Sprintf("reading layout: %v", err)
}

// IsLayoutFile reports whether a file of this base name is one the
// folder reads: a *.html file that is not hidden. Other files (an
// editor's backup, a log written beside the layouts) are no layout.
func IsLayoutFile(base string) bool {
	return path.Ext(base) == ".html" && !strings.HasPrefix(base, ".")
}

// FolderProblem returns the problem of a config whose layouts folder, on
// disk, is missing or no folder, at the config's layouts key; nil when it
// is a folder.
func FolderProblem(cfg *config.Config) *config.Problem {
	dir := cfg.LayoutsDir()
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cfg.ProblemAt("$.layouts", fmt.Sprintf("layouts folder %s does not exist", dir))
	case err != nil:
		return cfg.ProblemAt("$.layouts", fmt.Sprintf("layouts folder %s: %v", dir, err))
	case !fi.IsDir():
		return cfg.ProblemAt("$.layouts", fmt.Sprintf("layouts folder %s is a file, not a folder", dir))
	}
	return nil
}

// Load parses every *.html file of fsys. dir names the folder in
// problems. Unlike a reload, loading fails on any problem: Inlay refuses to
// start on a broken layout.
func Load(fsys fs.FS, dir string, services map[string]*config.Service) (*Folder, error) {
	l, problems := Check(fsys, dir, services)
	if len(problems) > 0 {
		return nil, problems
	}
	return l, nil
}

// Check parses every *.html file of fsys as [Load] does, but
// keeps going: it returns the layouts that parse, and the problems of the
// others. It is for checking a folder, where one broken layout must not
// hide what is wrong with the rest.
func Check(fsys fs.FS, dir string, services map[string]*config.Service) (*Folder, config.Problems) {
	l := &Folder{fsys: fsys, dir: dir, services: services, changed: make(chan struct{})}
	set, problems := l.parseAll(nil)
	l.current.Store(&set)
	return l, problems
}

// Warnings returns the warnings of the layout files as the last reload
// read them (elements left open, say), each once, sorted: a base
// layout's are not repeated for every page built on it. A file with
// problems, whose last good version serves meanwhile, has its warnings
// listed too, so that they are seen together with its problems.
func (l *Folder) Warnings() config.Problems {
	if w := l.warnings.Load(); w != nil {
		return *w
	}
	return nil
}

// Changed returns a channel that is closed at the next reload, whatever
// its outcome: dev mode's live reload waits on it.
func (l *Folder) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Version counts the reloads done so far.
func (l *Folder) Version() int64 { return l.version.Load() }

// Source returns the contents of a layout file as the last reload read
// it, for showing the lines around a problem.
func (l *Folder) Source(file string) ([]byte, bool) {
	src := l.sources.Load()
	if src == nil {
		return nil, false
	}
	data, ok := (*src)[file]
	return data, ok
}

// Get returns the layout with the given file name, or nil.
func (l *Folder) Get(name string) *Layout {
	return (*l.current.Load())[name]
}

// Names returns the names of the loaded layouts.
func (l *Folder) Names() []string {
	var names []string
	for name := range *l.current.Load() {
		names = append(names, name)
	}
	return names
}

// Reload parses the folder again and swaps in the result. Files with
// problems keep their last good version; the problems are returned.
func (l *Folder) Reload() config.Problems {
	l.mu.Lock()
	defer l.mu.Unlock()
	set, problems := l.parseAll(*l.current.Load())
	l.current.Store(&set)
	l.problems.Store(&problems)
	if len(problems) > 0 {
		l.errors.Add(1)
	}
	l.version.Add(1)
	close(l.changed)
	l.changed = make(chan struct{})
	return problems
}

// Problems returns the problems found by the last reload: the layouts they
// concern serve their last good version meanwhile.
func (l *Folder) Problems() config.Problems {
	if p := l.problems.Load(); p != nil {
		return *p
	}
	return nil
}

// parseAll parses every layout file. For a file that fails, the version in
// lastGood, if any, is kept.
func (l *Folder) parseAll(lastGood map[string]*Layout) (map[string]*Layout, config.Problems) {
	set := map[string]*Layout{}
	in := &inheritance{files: map[string]text{}, src: sources{}, problems: map[string]config.Problems{}, resolved: map[string]text{}}
	var warnings warningList
	names, problems, err := l.readAll(in)
	if err != nil {
		problems = append(problems, &config.Problem{File: l.dir, Message: err.Error()})
		maps.Copy(set, lastGood)
	}
	for _, name := range names {
		layout, ps := l.parsePage(in, name, &warnings)
		if len(ps) > 0 || layout == nil {
			problems = append(problems, ps...)
			if old, ok := lastGood[name]; ok {
				set[name] = old
			}
			continue
		}
		layout.Name = name
		set[name] = layout
	}
	for name := range l.required {
		if _, ok := set[name]; !ok && lastGood[name] != nil {
			set[name] = lastGood[name]
			problems = append(problems, &config.Problem{File: l.file(name),
				Message: "layout file is missing: its pages keep the last good version until it is back"})
		}
	}
	problems.Sort()
	warnings.list.Sort()
	l.sources.Store(&in.src)
	files := make(map[string]bool, len(names))
	for _, name := range names {
		files[name] = true
	}
	l.files.Store(&files)
	l.warnings.Store(&warnings.list)
	return set, problems
}

// warningList collects warnings, each once.
type warningList struct {
	list config.Problems
	seen map[string]bool
}

// add appends the warnings in ws not seen before.
func (w *warningList) add(ws config.Problems) {
	for _, p := range ws {
		if w.seen == nil {
			w.seen = map[string]bool{}
		}
		if key := p.Error(); !w.seen[key] {
			w.seen[key] = true
			w.list = append(w.list, p)
		}
	}
}

// readAll reads every layout file of the folder into in, with its ESI
// comments unwrapped, and returns their names in walk order and the files
// it could not read. The error is set when the folder itself cannot be
// walked.
func (l *Folder) readAll(in *inheritance) ([]string, config.Problems, error) {
	var (
		names    []string
		problems config.Problems
	)
	err := fs.WalkDir(l.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil && name == "." {
			return err // the folder itself is gone: keep everything as it was
		}
		if err != nil {
			problems = append(problems, &config.Problem{File: l.file(name), Message: err.Error()})
			return nil
		}
		if d.IsDir() {
			// Hidden folders hold editor state, or the ..data swap folder of
			// a Kubernetes ConfigMap whose files are linked from the top.
			if name != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !IsLayoutFile(d.Name()) {
			return nil
		}
		data, err := fs.ReadFile(l.fsys, name)
		if err != nil {
			problems = append(problems, &config.Problem{File: l.file(name), Message: readProblem(err)})
			return nil
		}
		file := l.file(name)
		in.src[file] = data
		t, ps := unwrapESIComments(fileText(file, data), in.src)
		if len(ps) > 0 {
			in.problems[name] = ps
		}
		in.files[name] = t
		names = append(names, name)
		return nil
	})
	return names, problems, err
}

// parsePage resolves the layout file name against its bases and parses it,
// adding its warnings to warnings. It returns the layout's problems; the
// layout is nil or must not be used when there are any.
func (l *Folder) parsePage(in *inheritance, name string, warnings *warningList) (*Layout, config.Problems) {
	var layout *Layout
	ps := in.problems[name]
	if len(ps) > 0 {
		return nil, ps
	}
	if t, ok := in.page(name); ok {
		layout, ps = parseText(t, in.src, l.services)
		if layout != nil {
			warnings.add(layout.Warnings)
		} else if _, why := unreadable(t.data); why == "" {
			// A file that parses, with mistakes: its warnings are
			// listed with its errors. One that cannot be read as
			// markup at all has none worth reading.
			warnings.add(unclosedElements(t, in.src))
		}
	}
	ps = append(ps, in.problems[name]...)
	return layout, ps
}

func (l *Folder) file(name string) string {
	return filepath.Join(l.dir, filepath.FromSlash(name))
}
