// Package contract is the fragment contract in executable form: the rules
// a team's fragment response must follow, stated once. The server (package
// fragments and package composer) and `inlay check-fragment` (package
// check) both call these functions, so the two can never disagree.
// docs/fragment-contract.md is the same contract in prose.
//
// The rules, one file each:
//
//   - content type: a 200 must be text/html ([IsHTML]);
//   - status: which statuses fill a box ([FillsBox]), which are a failure
//     ([Failed]), and what a primary's status makes of the page
//     ([PageStatus], [IsRedirect]);
//   - cacheability: the Cache-Control directives Inlay reads
//     ([ParseCacheControl], [CacheControl.Lifetime], [VaryNames]) and
//     whether a shared cache may store a response, for how long, and why
//     not ([Storability], [Verdict]);
//   - markup: a body must leave the HTML parser where it found it, so that
//     nothing after its box is hidden or swallowed ([CheckMarkup]);
//   - redirects: a primary's Location must be a same-site target as a
//     browser reads it ([ParseLocation], [SafeLocation]);
//   - assets: the stylesheets and scripts a fragment declares in Link
//     headers ([ParseAssets]);
//   - size: the default cap on a body ([DefaultMaxBodyBytes]), and what is
//     done to every body before it is placed ([CleanBody]).
//
// The package imports only the standard library and golang.org/x.
package contract
