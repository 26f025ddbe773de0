package search

// products is the demo catalogue: six categories of six products each.
// Descriptions avoid naming other categories, so that a search for a
// category name finds exactly that category.
var products = []product{
	// shoes
	{SKU: "sneaker-01", Name: "Canvas Sneaker", Category: "shoes", PriceCents: 4990, Color: "#e4572e", Featured: true,
		Description: "Low-top sneaker in washed cotton canvas with a vulcanised rubber sole."},
	{SKU: "sneaker-02", Name: "Leather Court Sneaker", Category: "shoes", PriceCents: 8990, Color: "#2a9d8f",
		Description: "Minimal court sneaker in smooth leather with a padded collar and cupsole."},
	{SKU: "runner-01", Name: "Trail Runner", Category: "shoes", PriceCents: 11990, Color: "#f3a712",
		Description: "Breathable mesh upper and a lugged outsole that grips on muddy paths."},
	{SKU: "boot-01", Name: "Chelsea Boot", Category: "shoes", PriceCents: 13990, Color: "#6d4c3d", Featured: true,
		Description: "Suede ankle boot with elastic side panels and a stacked heel."},
	{SKU: "loafer-01", Name: "Penny Loafer", Category: "shoes", PriceCents: 9990, Color: "#9b2226",
		Description: "Polished leather slip-on with a hand-stitched apron toe."},
	{SKU: "sandal-01", Name: "Cork Sandal", Category: "shoes", PriceCents: 5990, Color: "#dda15e",
		Description: "Two-strap sandal on a contoured cork footbed for warm days."},

	// bags
	{SKU: "tote-01", Name: "Market Tote", Category: "bags", PriceCents: 2990, Color: "#669bbc", Featured: true,
		Description: "Heavy cotton tote with an inside pocket, roomy enough for the weekly groceries."},
	{SKU: "backpack-01", Name: "Roll-top Backpack", Category: "bags", PriceCents: 7990, Color: "#264653", Featured: true,
		Description: "Waterproof roll-top daypack with a padded laptop sleeve."},
	{SKU: "messenger-01", Name: "Messenger Bag", Category: "bags", PriceCents: 6990, Color: "#588157",
		Description: "Waxed cotton messenger with a wide strap and a magnetic flap."},
	{SKU: "duffel-01", Name: "Weekender Duffel", Category: "bags", PriceCents: 9490, Color: "#bc6c25",
		Description: "Spacious holdall for short trips, with leather handles and a separate compartment."},
	{SKU: "crossbody-01", Name: "Mini Crossbody", Category: "bags", PriceCents: 4490, Color: "#b56576",
		Description: "Compact pouch on an adjustable strap for phone, keys and cards."},
	{SKU: "beltbag-01", Name: "Belt Bag", Category: "bags", PriceCents: 3490, Color: "#355070",
		Description: "Ripstop nylon hip pack with a quick-release buckle."},

	// jackets
	{SKU: "denim-jacket-01", Name: "Denim Jacket", Category: "jackets", PriceCents: 8990, Color: "#3d5a80", Featured: true,
		Description: "Classic trucker in rigid indigo denim that fades beautifully."},
	{SKU: "rain-jacket-01", Name: "Packable Rain Jacket", Category: "jackets", PriceCents: 7490, Color: "#ffb703",
		Description: "Lightweight waterproof shell that folds into its own pocket."},
	{SKU: "bomber-01", Name: "Nylon Bomber", Category: "jackets", PriceCents: 9990, Color: "#606c38",
		Description: "Flight-style bomber with ribbed cuffs and a quilted lining."},
	{SKU: "parka-01", Name: "Down Parka", Category: "jackets", PriceCents: 21990, Color: "#023047",
		Description: "Hip-length parka filled with responsibly sourced down for the coldest months."},
	{SKU: "fleece-01", Name: "Zip Fleece", Category: "jackets", PriceCents: 5990, Color: "#94d2bd",
		Description: "Cosy recycled fleece with a full zip and two hand pockets."},
	{SKU: "blazer-01", Name: "Linen Blazer", Category: "jackets", PriceCents: 14990, Color: "#c9ada7",
		Description: "Unstructured summer blazer in breathable Irish linen."},

	// shirts
	{SKU: "oxford-01", Name: "Oxford Shirt", Category: "shirts", PriceCents: 5490, Color: "#8ecae6", Featured: true,
		Description: "Button-down collar in soft brushed oxford cotton."},
	{SKU: "tee-01", Name: "Organic Cotton Tee", Category: "shirts", PriceCents: 1990, Color: "#e76f51",
		Description: "Everyday crew-neck tee in mid-weight organic jersey."},
	{SKU: "flannel-01", Name: "Flannel Overshirt", Category: "shirts", PriceCents: 6490, Color: "#ae2012",
		Description: "Heavy brushed flannel in a red check, worn open as a layer."},
	{SKU: "polo-01", Name: "Piqué Polo", Category: "shirts", PriceCents: 3990, Color: "#0a9396",
		Description: "Short-sleeve polo in breathable cotton piqué with a two-button placket."},
	{SKU: "linen-shirt-01", Name: "Linen Shirt", Category: "shirts", PriceCents: 5990, Color: "#e9c46a",
		Description: "Relaxed camp collar cut from airy washed linen."},
	{SKU: "henley-01", Name: "Waffle Henley", Category: "shirts", PriceCents: 3490, Color: "#8d99ae",
		Description: "Long-sleeve henley in a textured waffle knit."},

	// trousers
	{SKU: "chino-01", Name: "Slim Chino", Category: "trousers", PriceCents: 6990, Color: "#c2a878",
		Description: "Tapered chino in stretch cotton twill for every day."},
	{SKU: "jeans-01", Name: "Selvedge Jeans", Category: "trousers", PriceCents: 10990, Color: "#1d3557", Featured: true,
		Description: "Straight-leg jeans in raw Japanese selvedge denim."},
	{SKU: "cargo-01", Name: "Cargo Pants", Category: "trousers", PriceCents: 7490, Color: "#3a5a40",
		Description: "Relaxed ripstop pants with roomy bellows pockets."},
	{SKU: "jogger-01", Name: "Fleece Jogger", Category: "trousers", PriceCents: 4990, Color: "#6c757d",
		Description: "Brushed-back sweatpants with a drawcord waist and cuffed hems."},
	{SKU: "shorts-01", Name: "Chino Shorts", Category: "trousers", PriceCents: 3990, Color: "#f4a261",
		Description: "Nine-inch shorts in garment-dyed cotton twill."},
	{SKU: "corduroy-01", Name: "Corduroy Trousers", Category: "trousers", PriceCents: 7990, Color: "#7f5539",
		Description: "Wide-wale cord with a high rise and pleated front."},

	// accessories
	{SKU: "beanie-01", Name: "Merino Beanie", Category: "accessories", PriceCents: 2490, Color: "#6d597a", Featured: true,
		Description: "Fine-knit merino wool hat with a turn-up cuff."},
	{SKU: "cap-01", Name: "Six-panel Cap", Category: "accessories", PriceCents: 2990, Color: "#219ebc",
		Description: "Washed cotton baseball cap with an adjustable strap."},
	{SKU: "scarf-01", Name: "Lambswool Scarf", Category: "accessories", PriceCents: 3990, Color: "#bb3e03",
		Description: "Soft lambswool scarf with fringed ends, woven in Scotland."},
	{SKU: "sunglasses-01", Name: "Round Sunglasses", Category: "accessories", PriceCents: 8990, Color: "#2b2d42",
		Description: "Acetate frames with polarised, UV-blocking lenses."},
	{SKU: "belt-01", Name: "Leather Belt", Category: "accessories", PriceCents: 4490, Color: "#99582a",
		Description: "Full-grain leather belt with a solid brass buckle."},
	{SKU: "socks-01", Name: "Rib Socks 3-Pack", Category: "accessories", PriceCents: 1490, Color: "#ca6702",
		Description: "Three pairs of ribbed crew socks in combed cotton."},
}
