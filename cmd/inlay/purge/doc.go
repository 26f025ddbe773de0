// Package purge drops cached fragments by tag (the names in their
// Surrogate-Key header): the admin listener's POST /-/purge handler, and
// the client side `inlay purge` uses, through the shared tier or through a
// replica's admin listener.
package purge
