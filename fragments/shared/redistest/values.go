package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// Values returns every key the server holds, with its value, as an
// operator looking for leaked data would find them (SCAN, then GET for a
// string, SMEMBERS joined by newlines for a set, the type's name for
// anything else). It speaks plain TCP only.
func (s *Server) Values(tb testing.TB) map[string][]byte {
	tb.Helper()
	if s.CA != nil {
		tb.Fatal("redistest: Values speaks plain TCP only")
	}
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{s.Addr}, DisableCache: true})
	if err != nil {
		tb.Fatalf("redistest: connecting: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string][]byte{}
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Count(100).Build()).AsScanEntry()
		if err != nil {
			tb.Fatalf("redistest: SCAN: %v", err)
		}
		for _, k := range e.Elements {
			typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
			if err != nil {
				tb.Fatalf("redistest: TYPE: %v", err)
			}
			switch typ {
			case "string":
				v, err := c.Do(ctx, c.B().Get().Key(k).Build()).AsBytes()
				if err != nil && !rueidis.IsRedisNil(err) {
					tb.Fatalf("redistest: GET: %v", err)
				}
				out[k] = v
			case "set":
				ms, err := c.Do(ctx, c.B().Smembers().Key(k).Build()).AsStrSlice()
				if err != nil {
					tb.Fatalf("redistest: SMEMBERS: %v", err)
				}
				out[k] = []byte(strings.Join(ms, "\n"))
			case "none": // expired between SCAN and TYPE
			default:
				out[k] = []byte(typ)
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return out
		}
	}
}
