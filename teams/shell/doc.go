// Package shell is the example "shell" team of Inlay: it owns the site frame
// of the demo shop, i.e. the header with logo, navigation and search box,
// the footer, and the base page styles.
//
// Every route lives under /shell/, the team's gateway prefix:
//
//	GET /shell/fragments/header?q=TEXT  header content (public, max-age=60, stale-while-revalidate=300, stale-if-error=86400)
//	GET /shell/fragments/header-static  minimal fallback header (public, max-age=3600, stale-while-revalidate=3600, stale-if-error=604800)
//	GET /shell/fragments/footer         footer content (public, max-age=300, stale-while-revalidate=600, stale-if-error=86400)
//	GET /shell/static/shell.css         base and frame styles
//
// Fragments are bare HTML snippets that carry a Link header naming the
// team's stylesheet under its content hash. The page layout wraps the header
// fragment, followed by the basket team's mini basket, in
// <header class="shell-header"> and the footer fragment in
// <footer class="shell-footer">; shell.css styles both wrappers.
package shell
