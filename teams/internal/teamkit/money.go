package teamkit

import "strconv"

// EUR formats an amount in euro cents as "€49.90" ("-€1.50" if negative).
func EUR(cents int64) string {
	sign := ""
	if cents < 0 {
		sign = "-"
		cents = -cents
	}
	frac := strconv.FormatInt(cents%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + "€" + strconv.FormatInt(cents/100, 10) + "." + frac
}
