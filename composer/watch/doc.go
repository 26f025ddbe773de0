// Package watch tells when files change on disk: a folder (the layouts
// folder, its subfolders included) or one file (the config). It turns the
// burst of events one save makes into one call, follows editors' atomic
// saves (a temp file renamed over the original) and the ..data swap of a
// Kubernetes ConfigMap volume, and outlives its folder being removed,
// renamed away or replaced by a link: it waits for the folder to come
// back, watches it again and calls once more.
package watch
