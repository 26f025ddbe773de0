package layout

import (
	"fmt"
	"io/fs"

	"github.com/inlayhq/inlay/composer/config"
)

// CheckPages reports pages and error pages whose layout is not a file of
// the layouts folder, and error pages whose layout has a primary
// fragment. A name is looked up only inside the folder, as pages are
// served: one that leads out of it (../../etc/passwd) is refused whether
// or not a file is there. A file of the folder that did not parse is not
// reported again: its own problems say what is wrong with it.
func CheckPages(cfg *config.Config, layouts *Folder) config.Problems {
	var ps config.Problems
	for i, p := range cfg.Pages {
		if msg := layouts.missing(p.Layout); msg != "" {
			ps = append(ps, cfg.ProblemAt(fmt.Sprintf("$.pages[%d].layout", i), fmt.Sprintf("page %q: %s", p.Path, msg)))
		}
	}
	return append(ps, checkErrorPages(cfg, layouts)...)
}

// missing says why name is not a layout of the folder, or returns "" when
// it is one, or is a file of the folder that did not parse.
func (l *Folder) missing(name string) string {
	switch {
	case l.Get(name) != nil:
		return ""
	case !fs.ValidPath(name):
		return fmt.Sprintf("layout %q is not a file name inside the layouts folder %s: write it relative to that folder, without . or .. and without a leading /", name, l.dir)
	case l.Has(name):
		return ""
	}
	return fmt.Sprintf("layout %q not found in %s", name, l.dir)
}

// Has reports whether the last load or reload read a layout file called
// name, whether it parsed or not. Only files read inside the folder count:
// a name or a link that leads out of it never does, nor a file that is not
// a layout (inlay.yaml beside the layouts, say).
func (l *Folder) Has(name string) bool {
	files := l.files.Load()
	return files != nil && (*files)[name]
}

// checkErrorPages reports error pages whose layout is missing or has a
// primary fragment: an error page's status is the error's, and a failing
// primary would need an error page of its own.
func checkErrorPages(cfg *config.Config, layouts *Folder) config.Problems {
	var ps config.Problems
	for key, name := range cfg.ErrorPages {
		at := "$.error_pages." + key
		l := layouts.Get(name)
		switch {
		case l == nil:
			if msg := layouts.missing(name); msg != "" {
				ps = append(ps, cfg.ProblemAt(at, fmt.Sprintf("error page %q: %s", key, msg)))
			}
		case l.Primary >= 0:
			ps = append(ps, cfg.ProblemAt(at, fmt.Sprintf("error page %q: layout %q has a primary fragment (%q); an error page's status is the error's: drop primary", key, name, l.Slots[l.Primary].ID)))
		}
	}
	ps.Sort()
	return ps
}
