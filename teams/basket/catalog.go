package basket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Errors of catalogClient.Lookup.
var (
	errUnknownProduct     = errors.New("unknown product")
	errCatalogUnavailable = errors.New("catalogue unavailable")
)

// maxCachedProducts bounds the product cache.
const maxCachedProducts = 4096

// catalogClient reads product names and prices from the search team and
// caches them for catalogCacheTTL. With an empty base URL it accepts every
// SKU as it is, unpriced.
type catalogClient struct {
	base   string
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedProduct
}

type cachedProduct struct {
	item    line
	expires time.Time
}

// apiProduct is the JSON of GET /search/api/products/{sku}.
type apiProduct struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Category   string `json:"category"`
}

func newCatalogClient(base string, client *http.Client) *catalogClient {
	return &catalogClient{base: base, client: client, now: time.Now, cache: map[string]cachedProduct{}}
}

// Lookup returns the basket line (without quantity) for a well-formed sku.
// Its error is errUnknownProduct when the catalogue does not know the SKU,
// or wraps errCatalogUnavailable when the catalogue could not be asked.
func (c *catalogClient) Lookup(ctx context.Context, sku string) (line, error) {
	if c.base == "" {
		return line{SKU: sku, Name: sku}, nil
	}
	now := c.now()
	c.mu.Lock()
	hit, ok := c.cache[sku]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.item, nil
	}

	item, err := c.fetch(ctx, sku)
	if err != nil {
		return line{}, err
	}
	c.mu.Lock()
	if len(c.cache) >= maxCachedProducts {
		for k, v := range c.cache {
			if !now.Before(v.expires) {
				delete(c.cache, k)
			}
		}
		if len(c.cache) >= maxCachedProducts {
			clear(c.cache)
		}
	}
	c.cache[sku] = cachedProduct{item: item, expires: now.Add(catalogCacheTTL)}
	c.mu.Unlock()
	return item, nil
}

func (c *catalogClient) fetch(ctx context.Context, sku string) (line, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/search/api/products/"+sku, nil)
	if err != nil {
		return line{}, fmt.Errorf("%w: %v", errCatalogUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return line{}, fmt.Errorf("%w: %v", errCatalogUnavailable, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 64<<10)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		_, _ = io.Copy(io.Discard, body)
		return line{}, errUnknownProduct
	default:
		_, _ = io.Copy(io.Discard, body)
		return line{}, fmt.Errorf("%w: status %s", errCatalogUnavailable, resp.Status)
	}
	var p apiProduct
	if err := json.NewDecoder(body).Decode(&p); err != nil {
		return line{}, fmt.Errorf("%w: decoding product: %v", errCatalogUnavailable, err)
	}
	if p.SKU != sku || p.Name == "" || p.PriceCents < 0 {
		return line{}, fmt.Errorf("%w: unexpected product %+v for %q", errCatalogUnavailable, p, sku)
	}
	return line{SKU: sku, Name: p.Name, PriceCents: p.PriceCents, Priced: true}, nil
}
