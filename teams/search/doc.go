// Package search is the example "search" team of Inlay: it owns the product
// catalogue of the demo shop, its search, the product pages and the product
// images.
//
// Every route lives under /search/, the team's gateway prefix:
//
//	GET /search/fragments/results?q=TEXT  search results (public, max-age=60, stale-while-revalidate=60, stale-if-error=3600)
//	GET /search/fragments/product/:sku    product detail, 404 if unknown (public, max-age=60, stale-while-revalidate=60, stale-if-error=3600)
//	GET /search/fragments/featured        featured products for the home page (public, max-age=60, stale-while-revalidate=60, stale-if-error=3600)
//	GET /search/fragments/more            one row of products for the product page, of a fixed height (same caching)
//	GET /search/api/products/:sku         product JSON for other teams, 404 JSON if unknown
//	GET /search/static/search.css         the team's styles
//	GET /search/static/img/:sku.svg       generated product image (public, max-age=86400)
//
// Fragments are bare HTML snippets that carry a Link header naming the
// team's stylesheet under its content hash. The catalogue is a fixed list
// of products compiled into the service.
package search
