// Package layouts holds the demo shop's layout files and its config,
// embedded so that the inlay binary can run the demo from anywhere.
//
// Designers edit the *.html files directly: they are plain HTML with
// <fragment> placeholders, read at run time and reloaded on change.
package layouts

import "embed"

// FS holds the demo layouts and inlay.yaml.
//
//go:embed *.html inlay.yaml
var FS embed.FS

// ConfigFile is the demo config's name inside FS and this folder.
const ConfigFile = "inlay.yaml"
