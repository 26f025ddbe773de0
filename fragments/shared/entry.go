package shared

import "github.com/inlayhq/inlay/fragments/shared/wire"

// Entry is what the tier stores for one key: a complete fragment response
// and its windows. Its storage format is package wire's.
type Entry = wire.Entry

// ErrCorrupt is returned for a stored value that does not decode.
var ErrCorrupt = wire.ErrCorrupt
