// Package layout is Inlay's layout language: plain HTML files that
// designers edit, with <fragment> placeholders for the teams' boxes.
//
// [Parse] turns one file into a [Layout]: the static markup cut into
// chunks, with a [Slot] between each two, each slot naming its [Source] (a
// service and a URL template with {parameters}), its fallback, its inline
// markup and its timeout. Nothing is parsed per request. The language also
// has ESI (<esi:include>, <esi:remove>, <!--esi ... -->), inheritance (a
// layout extends a base one and fills its <slot>s), and a title slot.
//
// [Load] and [Check] read a whole folder through an os.Root, so links out
// of it are refused. A [Folder] is the parsed folder: [Folder.Reload]
// re-reads it and keeps the last good version of a file that no longer
// parses. Every problem carries FILE:LINE:COL.
//
// The package is pure: it knows neither HTTP servers nor the fetch engine.
package layout
