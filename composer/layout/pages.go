package layout

import (
	"fmt"

	"github.com/inlayhq/inlay/composer/config"
)

// CheckPages reports pages and error pages whose layout does not exist,
// and error pages whose layout has a primary fragment.
func CheckPages(cfg *config.Config, layouts *Folder) config.Problems {
	var ps config.Problems
	for i, p := range cfg.Pages {
		if layouts.Get(p.Layout) == nil {
			ps = append(ps, cfg.ProblemAt(fmt.Sprintf("$.pages[%d].layout", i),
				fmt.Sprintf("page %q: layout %q not found in %s", p.Path, p.Layout, cfg.LayoutsDir())))
		}
	}
	return append(ps, checkErrorPages(cfg, layouts)...)
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
			ps = append(ps, cfg.ProblemAt(at, fmt.Sprintf("error page %q: layout %q not found in %s", key, name, cfg.LayoutsDir())))
		case l.Primary >= 0:
			ps = append(ps, cfg.ProblemAt(at, fmt.Sprintf("error page %q: layout %q has a primary fragment (%q); an error page's status is the error's: drop primary", key, name, l.Slots[l.Primary].ID)))
		}
	}
	ps.Sort()
	return ps
}
