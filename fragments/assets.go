package fragments

import (
	"net/http"

	"github.com/inlayhq/inlay/fragments/contract"
)

// Asset is a stylesheet or script that a fragment needs on the page: the
// contract's [contract.Asset].
type Asset = contract.Asset

// AssetKind says how an asset is put on the page: the contract's
// [contract.AssetKind].
type AssetKind = contract.AssetKind

// The kinds of asset a fragment can declare, as the contract names them.
const (
	Stylesheet   = contract.Stylesheet
	ModuleScript = contract.ModuleScript
	Script       = contract.Script
)

// ParseAssets reads the assets declared in Link headers, in order, by the
// contract's rule: [contract.ParseAssets].
func ParseAssets(h http.Header) []Asset {
	return contract.ParseAssets(h)
}
