package layout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
)

// writeFiles writes name → content under dir, making folders as needed.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// A Kubernetes ConfigMap volume: the files at the top are links into
// ..data, itself a link to a timestamped folder. Links inside the folder
// are followed.
func TestLayoutDirFollowsLinksInside(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"..2026_11_30/base.html": `<html><body><slot name="main">default</slot></body></html>`,
		"..2026_11_30/page.html": `<layout base="base.html"><fill slot="main">page</fill></layout>`,
	})
	symlink(t, "..2026_11_30", filepath.Join(dir, "..data"))
	symlink(t, "..data/base.html", filepath.Join(dir, "base.html"))
	symlink(t, "..data/page.html", filepath.Join(dir, "page.html"))

	l, err := Load(Dir(dir), dir, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Get("page.html") == nil || l.Get("base.html") == nil {
		t.Fatalf("got layouts %v, want base.html and page.html", l.Names())
	}
}

// A link out of the folder is never read, and the problem names
// the link's file, at start and on reload.
func TestLayoutDirRefusesLinksOut(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"inlay.yaml": "debug_token: secret-token\n"})
	for _, target := range []string{filepath.Join(outside, "inlay.yaml"), "../" + filepath.Base(outside) + "/inlay.yaml", "/etc/passwd"} {
		t.Run(target, func(t *testing.T) {
			parent := filepath.Dir(outside)
			dir, err := os.MkdirTemp(parent, "layouts")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			writeFiles(t, dir, map[string]string{
				"page.html": `<layout base="cfg.html"><fill slot="main">x</fill></layout>`,
			})
			symlink(t, target, filepath.Join(dir, "cfg.html"))
			_, err = Load(Dir(dir), dir, nil)
			if err == nil {
				t.Fatal("Load accepted a link out of the folder")
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Join(dir, "cfg.html")+": the file is a link that leads out of the layouts folder") {
				t.Errorf("got %q, want a problem naming cfg.html as a link out of the folder", msg)
			}
			if strings.Contains(msg, "secret-token") || strings.Contains(msg, "root:") {
				t.Errorf("the problem shows the linked file's content: %q", msg)
			}

			// Hot reload: the same link added to a folder that loaded fine.
			os.Remove(filepath.Join(dir, "cfg.html"))
			writeFiles(t, dir, map[string]string{"page.html": `<p>fine</p>`})
			l, err := Load(Dir(dir), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			symlink(t, target, filepath.Join(dir, "cfg.html"))
			writeFiles(t, dir, map[string]string{"page.html": `<layout base="cfg.html"><fill slot="main">x</fill></layout>`})
			ps := l.Reload()
			if !strings.Contains(ps.Error(), filepath.Join(dir, "cfg.html")+": the file is a link that leads out") {
				t.Errorf("reload problems %q, want one naming cfg.html", ps.Error())
			}
			if l.Get("cfg.html") != nil {
				t.Error("the linked file was loaded as a layout")
			}
			if got := l.Get("page.html"); got == nil || strings.Contains(string(got.chunks[0]), "secret-token") {
				t.Error("page.html is not its last good version")
			}
		})
	}
}

// "layout is empty" names its file, however empty it is.
func TestEmptyLayoutNamesItsFile(t *testing.T) {
	for name, content := range map[string]string{"empty.html": "", "blank.html": " \n\t"} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{name: content})
		_, err := Load(Dir(dir), dir, nil)
		want := filepath.Join(dir, name) + ":1:1: layout is empty"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v, want %q…", name, err, want)
		}
	}
}

// H6: a page's layout is looked up inside the folder only. A name that
// leads out of it is refused whatever lies there; a file of the folder
// that is no layout is not found; a broken layout is left to its own
// problems.
func TestCheckPagesLooksInsideTheFolderOnly(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "shop", "layouts")
	writeFiles(t, root, map[string]string{
		"etc/passwd":               "root:x:0:0:root:/root:/bin/sh\n",
		"shop/layouts/ok.html":     `<p>ok</p>`,
		"shop/layouts/bad.html":    `<fragment src="nowhere:/x"></fragment>`,
		"shop/layouts/sub/in.html": `<p>in</p>`,
		"shop/layouts/notes.txt":   "not a layout",
	})
	folder, problems := Check(Dir(dir), dir, nil)
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "bad.html") {
		t.Fatalf("Check: %v, want bad.html's problem alone", problems)
	}
	cases := []struct{ layout, want string }{
		{"ok.html", ""},
		{"sub/in.html", ""},
		{"bad.html", ""},
		{"../../etc/passwd", `layout "../../etc/passwd" is not a file name inside the layouts folder ` + dir},
		{"/etc/passwd", `layout "/etc/passwd" is not a file name inside the layouts folder`},
		{"./ok.html", `layout "./ok.html" is not a file name inside the layouts folder`},
		{"sub/../ok.html", `layout "sub/../ok.html" is not a file name inside the layouts folder`},
		{"notes.txt", `layout "notes.txt" not found in ` + dir},
		{"gone.html", `layout "gone.html" not found in ` + dir},
	}
	for _, tc := range cases {
		cfg, err := config.Parse(filepath.Join(root, "shop", "inlay.yaml"), []byte("layouts: layouts\nservices:\n  a:\n    url: http://127.0.0.1:9\npages:\n  - path: /\n    layout: "+tc.layout+"\nerror_pages:\n  \"404\": "+tc.layout+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		ps := CheckPages(cfg, folder)
		if tc.want == "" {
			if len(ps) != 0 {
				t.Errorf("layout %q: %v, want no problem", tc.layout, ps)
			}
			continue
		}
		if len(ps) != 2 || !strings.Contains(ps[0].Error(), ":7:13: page \"/\": "+tc.want) || !strings.Contains(ps[1].Error(), ":9:10: error page \"404\": "+tc.want) {
			t.Errorf("layout %q: %v, want %q for the page at 7:13 and the error page at 9:10", tc.layout, ps, tc.want)
		}
	}
}

// TestFolderProblem: a layouts folder that is missing, or a file, is a
// problem at the config's layouts key, which says which; a folder is none.
func TestFolderProblem(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.html": "<p>a</p>", "views/b.html": "<p>b</p>"})
	for _, tc := range []struct{ layouts, want string }{
		{"views", ""},
		{"nope", `inlay.yaml:1:10: layouts folder ` + filepath.Join(dir, "nope") + ` does not exist`},
		{"a.html", `inlay.yaml:1:10: layouts folder ` + filepath.Join(dir, "a.html") + ` is a file, not a folder`},
	} {
		cfg, err := config.Parse(filepath.Join(dir, "inlay.yaml"), []byte("layouts: "+tc.layouts+"\nservices:\n  a:\n    url: http://127.0.0.1:9101\n"))
		if err != nil {
			t.Fatal(err)
		}
		p := FolderProblem(cfg)
		switch {
		case tc.want == "" && p != nil:
			t.Errorf("layouts: %s: got %v, want no problem", tc.layouts, p)
		case tc.want != "" && (p == nil || !strings.HasSuffix(p.Error(), tc.want)):
			t.Errorf("layouts: %s: got %v, want %s", tc.layouts, p, tc.want)
		}
	}
}
