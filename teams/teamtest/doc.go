// Package teamtest is the kit Inlay's tests are built from, so that each
// test says what it checks and not how to stand up a shop:
//
//   - [Team] is a stand-in team service: a real HTTP server on loopback
//     that answers each path as its [Route] says (a status, a body and
//     headers, or an answer held by a gate, a hang until the request is
//     cancelled, or a handler of the test's own), records every request
//     it gets, and counts them and their peak concurrency. The test may
//     change its routes while it runs.
//   - [Shop] describes a shop: its services, pages, gateway, more YAML
//     and layout files. It gives the config's YAML, parses it with the
//     layouts as an in-memory folder ([Parse]), or writes it to a
//     temporary folder for tests that run the inlay command ([Shop.Write]).
//   - [Fragment] and [Raw] are handlers of one line: a team's fragment,
//     and a team that answers raw bytes, broken HTTP on purpose.
//   - [Get] fetches a page the way the tests read one: without following
//     redirects, the body read whole, within a bounded time.
//   - [Logs] is the log sink the servers a test starts write to.
//
// Only tests import it. It imports nothing of Inlay, so that the internal
// tests of every package (composer/config's own dependencies among them)
// can use it without an import cycle.
package teamtest
