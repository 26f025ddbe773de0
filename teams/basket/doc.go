// Package basket is the example "basket" team of Inlay: it owns the
// shopper's basket of the demo shop, the mini basket in the header, the
// add-to-basket button on product pages and the basket page.
//
// Every route lives under /basket/, the team's gateway prefix:
//
//	GET  /basket/fragments/mini          link with the item count (private, no-store)
//	GET  /basket/fragments/add?sku=SKU   add-to-basket form, 400 if the SKU is malformed (public, max-age=300, stale-while-revalidate=300, stale-if-error=86400)
//	GET  /basket/fragments/page          the basket page body (private, no-store)
//	POST /basket/api/add                 form fields sku, qty (1-99, default 1), return
//	POST /basket/api/remove              form fields sku, return
//	GET  /basket/static/basket.css       the team's styles
//
// Baskets are kept in memory, bounded in number (least recently used first
// out), and identified by the inlay_basket cookie, a 128-bit random hex
// value that only the POST endpoints set. The POST endpoints answer with
// 303 See Other to the form's return path, when it is a local path, or to
// /basket; with Accept: application/json they answer {"count": N} instead.
//
// With Config.CatalogURL set, SKUs are checked against the search team's
// product API and basket lines carry the product's name and price as they
// were when added.
package basket
