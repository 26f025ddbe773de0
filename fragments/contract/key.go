package contract

// PrimaryKey is the cache and coalescing key of a fragment before its
// response is known (RFC 9111 §4.1): the service and the URL. Headers
// split the cache only when a stored response's Vary names them: a
// service's own headers, never the shopper's User-Agent or Inlay's
// context headers.
func PrimaryKey(service, url string) string {
	return service + " " + url
}

// HostKey is the primary key of a fragment whose request carries a base
// URL made from the shopper's Host (X-Inlay-Base-URL when no public_url is
// set): the service, the URL and that base URL. A team following the
// contract builds links from it, so a Host is cached only for the shoppers
// who send the same one. Neither a service name nor a URL holds a space,
// so the parts cannot run into each other.
func HostKey(service, url, baseURL string) string {
	return service + " " + url + " " + baseURL
}
