package contract

// PrimaryKey is the cache and coalescing key of a fragment before its
// response is known (RFC 9111 §4.1): the service and the URL. Headers
// split the cache only when a stored response's Vary names them: a
// service's own headers, never the shopper's User-Agent or Inlay's
// context headers.
func PrimaryKey(service, url string) string {
	return service + " " + url
}
