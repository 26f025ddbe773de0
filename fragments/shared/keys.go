package shared

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/inlayhq/inlay/fragments/shared/redisurl"
)

// keyVersion is part of every key name; it changes with the entry format.
const keyVersion = "v1"

// names builds the Redis key and channel names of one Store. Every name
// that depends on caller input holds only a SHA-256 hash of it.
type names struct {
	prefix string // namespace + ":" + keyVersion + ":"
}

func newNames(namespace string) names { return names{prefix: namespace + ":" + keyVersion + ":"} }

// hash returns the hex SHA-256 of a caller's key or a tag.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// entry names the value of a hashed key.
func (n names) entry(h string) string { return n.prefix + "e:" + h }

// lease names the lease of a hashed key.
func (n names) lease(h string) string { return n.prefix + "l:" + h }

// tag names the set of caller keys carrying a tag.
func (n names) tag(tag string) string { return n.prefix + "t:" + hash(tag) }

// done is the channel on which lease holders announce a hashed key's result.
func (n names) done() string { return n.prefix + "done" }

// purged is the channel on which purges announce the keys they dropped.
func (n names) purged() string { return n.prefix + "purged" }

// Redacted returns a Redis URL fit for logs, as redisurl.Redacted does.
func Redacted(rawURL string) string { return redisurl.Redacted(rawURL) }
